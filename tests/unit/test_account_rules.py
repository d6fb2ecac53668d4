"""The pure account rules, tested directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desvirt.accounts import domain
from desvirt.accounts.domain import FieldError
from desvirt.i18n import negotiate

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_handles_are_lower_case_and_safe() -> None:
    assert domain.normalize_handle(" @Lucia_82 ") == "lucia_82"
    for bad in ("ab", "has space", "ñandú", "a" * 31, "settings"):
        with pytest.raises(FieldError):
            domain.normalize_handle(bad)


def test_emails_are_normalized_to_lower_case() -> None:
    assert domain.normalize_email(" Ana@Example.ORG ") == "ana@example.org"
    with pytest.raises(FieldError) as raised:
        domain.normalize_email("ana@")
    assert raised.value.field == "email"


def test_time_zones_must_be_iana_names() -> None:
    assert domain.check_timezone("America/Argentina/Buenos_Aires")
    with pytest.raises(FieldError):
        domain.check_timezone("CEST")


def test_reminder_offsets_are_sorted_and_deduplicated() -> None:
    assert domain.normalize_reminder_offsets([60, 1440, 60]) == [1440, 60]
    with pytest.raises(FieldError):
        domain.normalize_reminder_offsets([1, 2, 3, 4, 5, 6])


def test_charter_reasons_keep_the_official_order() -> None:
    assert domain.normalize_charter_reasons(["read_your_work", "met_in_person"]) == [
        "met_in_person",
        "read_your_work",
    ]
    with pytest.raises(FieldError):
        domain.normalize_charter_reasons([])


def test_folding_ignores_case_and_accents() -> None:
    assert domain.fold_text("Oportunidad ÚNICA") == domain.fold_text("oportunidad unica")
    assert domain.fold_text("Straße") == "strasse"


def test_signup_problems_lists_every_bad_field() -> None:
    problems = domain.signup_problems(
        email="x", password="short", handle="!", display_name="", locale="xx", timezone="Nowhere"
    )
    assert {p.field for p in problems} == {
        "email",
        "password",
        "handle",
        "display_name",
        "locale",
        "timezone",
    }


def test_under_the_limit_nobody_waits() -> None:
    attempts = [NOW - timedelta(minutes=m) for m in range(9)]
    assert domain.retry_after_seconds(attempts, NOW, 10, WINDOW) is None


def test_at_the_limit_the_wait_ends_when_the_oldest_attempt_leaves_the_window() -> None:
    attempts = [NOW - timedelta(minutes=10)] + [NOW - timedelta(seconds=s) for s in range(9)]
    assert domain.retry_after_seconds(attempts, NOW, 10, WINDOW) == 5 * 60


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=30 * 60), max_size=40),
    limit=st.integers(min_value=0, max_value=12),
)
def test_a_wait_is_given_exactly_when_the_window_is_full(offsets: list[int], limit: int) -> None:
    attempts = [NOW - timedelta(seconds=s) for s in offsets]
    wait = domain.retry_after_seconds(attempts, NOW, limit, WINDOW)
    in_window = sum(1 for s in offsets if s < WINDOW.total_seconds())
    if limit == 0 or in_window < limit:
        assert wait is None
    else:
        assert wait is not None
        assert 1 <= wait <= WINDOW.total_seconds()
        # After waiting, fewer than `limit` attempts remain in the window.
        later = NOW + timedelta(seconds=wait)
        assert domain.retry_after_seconds(attempts, later, limit, WINDOW) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("es-ES,es;q=0.9,en;q=0.8", "es"),
        ("fr-FR, de;q=0.7, en;q=0.9", "en"),
        ("de-CH", "de"),
        ("en;q=0.1, es;q=0.5", "es"),
        ("es;q=0, de", "de"),
        ("garbage;;q=x", "en"),
    ],
)
def test_accept_language_picks_the_best_supported_language(
    header: str | None, expected: str
) -> None:
    assert negotiate(header) == expected
