"""No template shows words outside `_()`: every text a page shows goes through the catalogs.

The browser tests catch English catalog texts on rendered es/de pages; this catches text that
never reached a catalog at all, in every template, including pages no test visits.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from desvirt.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "frontend" / "templates"
# Product and brand names read the same in every language.
NAMES = {"Desvirt", "Google", "Apple", "Calendar", "Outlook", "Thunderbird", "OpenStreetMap"}
JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
WORD = re.compile(r"[^\W\d_]{2,}")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._code += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self._note(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code and '="' not in data:  # '="' is a macro emitting attributes
            self._note(data)

    def _note(self, text: str) -> None:
        words = [w for w in WORD.findall(text) if w not in NAMES]
        if words:
            self.found.append(" ".join(text.split()))


def untranslated_template_texts(path: Path) -> list[str]:
    parser = _Texts()
    parser.feed(JINJA.sub(" ", path.read_text()))
    return parser.found


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_template_shows_no_text_outside_the_catalogs(template: Path) -> None:
    assert untranslated_template_texts(template) == []


def test_the_check_finds_a_bare_word(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<p>{{ _("Fine") }}</p><button title="Close">Save</button>')
    assert untranslated_template_texts(page) == ["Close", "Save"]
