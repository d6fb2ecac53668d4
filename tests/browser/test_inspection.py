"""The checks the browser tests rely on must themselves catch what they claim to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.inspection import accessibility_problems, horizontal_overflow, untranslated_texts


def test_english_text_on_a_spanish_page_is_caught() -> None:
    html = '<main><h1>Ajustes</h1><button>Save profile</button><input aria-label="Settings"></main>'
    assert untranslated_texts(html, "es") == ["Save profile", "Settings"]


def test_a_long_english_sentence_inside_other_text_is_caught() -> None:
    html = "<p>Hola. Keep it private: anyone with this URL sees your meetups.</p>"
    assert untranslated_texts(html, "de") == [
        "Keep it private: anyone with this URL sees your meetups."
    ]


def test_translated_pages_names_and_scripts_pass() -> None:
    html = (
        "<html><body><h1>Ajustes</h1><p>Desvirt</p><p>Emma Clarke</p>"
        "<script>var label = 'Settings';</script><style>.x{}</style></body></html>"
    )
    assert untranslated_texts(html, "es") == []


@pytest.mark.browser
def test_axe_and_the_width_check_catch_broken_pages(browser: Any) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.set_content(
            '<html lang="en"><head><title>Broken</title></head><body><main>'
            '<img src="x.png"><input type="text"><div style="width:600px">wide</div>'
            "</main></body></html>"
        )
        problems = " ".join(accessibility_problems(page))
        assert "image-alt" in problems
        assert "label" in problems
        assert horizontal_overflow(page) > 0
    finally:
        page.close()
