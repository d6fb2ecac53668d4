"""Dates and times read the way each language writes them, in the reader's or meetup's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from desvirt.i18n import format_when

# 18:30 UTC on 10 December 2026 is 19:30 in Madrid, 13:30 in Bogotá.
EVENING = datetime(2026, 12, 10, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "style", "expected"),
    [
        ("es", "full", "jueves, 10 de diciembre de 2026, 19:30"),
        ("de", "full", "Donnerstag, 10. Dezember 2026, 19:30"),
        ("en", "full", "Thursday, December 10, 2026, 7:30\u202fPM"),
        ("es", "medium", "10 dic 2026, 19:30"),
        ("de", "medium", "10.12.2026, 19:30"),
        ("es", "time", "19:30"),
    ],
)
def test_a_meetup_time_reads_naturally_in_each_language(
    locale: str, style: str, expected: str
) -> None:
    assert format_when(EVENING, "Europe/Madrid", locale, style) == expected


def test_the_same_moment_shows_in_the_readers_zone() -> None:
    assert format_when(EVENING, "America/Bogota", "es", "time") == "13:30"


def test_summer_time_is_applied_on_the_day_it_starts() -> None:
    # Clocks in Madrid jump from 02:00 to 03:00 on 29 March 2026 (01:00 UTC).
    assert format_when(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Madrid", "de", "time") == (
        "03:30"
    )


def test_no_seconds_are_shown() -> None:
    for locale in ("es", "de", "en"):
        for style in ("full", "long", "medium", "short"):
            on_the_hour = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
            assert ":00:00" not in format_when(on_the_hour, "UTC", locale, style)
