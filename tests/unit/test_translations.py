"""Every text the UI shows is translated into Spanish and German."""

from __future__ import annotations

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from desvirt.i18n import LOCALE_DIR
from desvirt.settings import PROJECT_ROOT

METHODS = [("server/**.py", "python"), ("frontend/templates/**.html", "jinja2")]
OPTIONS = {"frontend/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def messages_in_code() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), METHODS, OPTIONS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", ["es", "de"])
def test_every_message_in_the_code_is_translated(locale: str) -> None:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]  # a plural message: (singular, plural)
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(messages_in_code() - translated)
    assert not missing, f"untranslated in {locale} (run `make messages`, then translate): {missing}"
