"""The checks the browser tests rely on must themselves catch what they claim to."""

from __future__ import annotations

from tests.browser.inspection import untranslated_texts


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
