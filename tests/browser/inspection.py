"""What the browser tests check on every page: accessibility, phone layout, language, looks.

axe-core (bundled by the axe-playwright-python package) needs JavaScript, so a page seen
with JavaScript off is audited by replaying its exact HTML, at its own URL, in a second
context that has JavaScript on: the markup and the stylesheet are the same ones the person saw.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from babel.messages.pofile import read_po

from desvirt.i18n import LOCALE_DIR

SCREENSHOTS = Path(__file__).parent / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")
_AXE = Axe()
_TEXT_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
# Words that are the same in every language, or names, never flagged as untranslated.
_SAME_EVERYWHERE = {"Desvirt", "Email", "Token", "OK", "Online", "Google Calendar", "Outlook"}


def accessibility_problems(page: Any) -> list[str]:
    """Serious or critical axe-core violations on the page, one readable line each."""
    results = _AXE.run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        problems.append(
            f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}"
        )
    return problems


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0 means no sideways scroll)."""
    width: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return max(0, width)


def small_tap_targets(page: Any) -> list[str]:
    """Visible buttons, button-like links, nav links and form fields under 44 px high."""
    found: list[str] = page.evaluate(
        """[...document.querySelectorAll(
            'button, .button, .site-nav a, select, textarea,'
            + ' input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
          .filter(element => element.getClientRects().length > 0)
          .filter(element => element.getBoundingClientRect().height < 43.5)
          .map(element => element.outerHTML.slice(0, 100))"""
    )
    return found


def save_screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class _VisibleText(HTMLParser):
    """Text nodes and human-readable attributes of a page, outside script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        values = dict(attrs)
        for name in _TEXT_ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth and data.strip():
            self.texts.append(data)


def _normal(text: str) -> str:
    return " ".join(text.split())


def english_catalog_texts(locale: str) -> set[str]:
    """The English source texts whose translation in `locale` differs from them."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    texts = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or not message.string:
            continue
        if message.id == message.string or "%(" in message.id or message.id in _SAME_EVERYWHERE:
            continue
        texts.add(_normal(message.id))
    return texts


def untranslated_texts(html: str, locale: str) -> list[str]:
    """English catalog texts that appear on a page meant to be in `locale`.

    A text node (or label-like attribute) that equals an English source text is flagged, and
    so is any longer source text (four words or more) found inside a text node.
    """
    parser = _VisibleText()
    parser.feed(html)
    english = english_catalog_texts(locale)
    long_english = [text for text in english if len(text.split()) >= 4]
    found = set()
    for raw in parser.texts:
        text = _normal(raw)
        if text in english:
            found.add(text)
            continue
        found.update(source for source in long_english if source in text)
    return sorted(found)
