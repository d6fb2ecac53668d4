"""Contact rules that hold whatever the input: charter phrases, projections, cooldowns."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desvirt.accounts.domain import CONTACT_REASONS, Charter, FieldError
from desvirt.contacts.domain import (
    REASONS,
    PairEvent,
    charter_breach,
    check_request,
    cooldown_seconds_left,
    derive_trust,
    phrase_matches,
    project_pair,
)

ANA, BEN = 1, 2
T0 = datetime(2026, 1, 1, tzinfo=UTC)
words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
texts = st.text(max_size=80)


def with_accents(text: str) -> str:
    """Put an acute accent on every vowel, as a sloppy or emphatic writer might."""
    return unicodedata.normalize(
        "NFC", "".join(ch + "\u0301" if ch in "aeiouAEIOU" else ch for ch in text)
    )


def test_the_charter_list_is_the_accounts_list() -> None:
    assert REASONS == CONTACT_REASONS


@given(phrases, texts, texts)
def test_a_phrase_inside_a_message_always_matches(phrase: str, before: str, after: str) -> None:
    assert phrase_matches(phrase, f"{before} {phrase} {after}")


@given(phrases, texts, texts)
def test_case_and_accents_never_matter(phrase: str, before: str, after: str) -> None:
    message = f"{before} {phrase} {after}"
    assert phrase_matches(phrase.upper(), message)
    assert phrase_matches(with_accents(phrase), message.swapcase())
    assert phrase_matches(phrase, with_accents(message).upper())


@given(texts)
def test_an_empty_phrase_matches_nothing(text: str) -> None:
    assert not phrase_matches("", text)
    assert not phrase_matches("  ", text)


def test_phrase_examples() -> None:
    assert phrase_matches("oportunidad única", "Tengo una OPORTUNIDAD UNICA para ti")
    assert phrase_matches("quick call", "Can we hop on a quick-call?")
    assert phrase_matches("Geschäftsidee", "eine GESCHAFTSIDEE")
    assert not phrase_matches("quick call", "a call, quickly")


def test_charter_rules_in_order() -> None:
    strict = Charter(
        accepted_reasons=("met_in_person", "business_interest"),
        auto_decline_phrases=("crypto",),
        require_message=True,
    )
    assert charter_breach(strict, "read_your_work", "hello") == "reason_not_accepted"
    assert charter_breach(strict, "met_in_person", "  ") == "message_required"
    assert charter_breach(strict, "business_interest", "stuff") == "business_interest_unspecified"
    assert charter_breach(strict, "met_in_person", "Great CRYPTO deal") == "auto_decline_phrase"
    assert charter_breach(strict, "met_in_person", "We met at the Madrid dinner") is None
    relaxed = Charter(require_message=False)
    assert charter_breach(relaxed, "met_in_person", "") is None
    assert charter_breach(relaxed, "business_interest", "") == "business_interest_unspecified"
    assert (
        charter_breach(relaxed, "business_interest", "We build booking software for dentists")
        is None
    )


def test_unknown_reasons_and_huge_messages_are_refused() -> None:
    with pytest.raises(FieldError) as error:
        check_request("friends", "hi")
    assert error.value.field == "reason"
    with pytest.raises(FieldError):
        check_request("met_in_person", "x" * 2001)
    assert check_request("met_in_person", "  hi  ") == "hi"


def test_projection_keeps_the_reason_and_since_of_the_last_connection() -> None:
    later = T0 + timedelta(days=40)
    history = [
        PairEvent("requested", ANA, reason="read_your_work", at=T0),
        PairEvent("accepted", BEN, reason="read_your_work", at=T0),
        PairEvent("met_claimed", ANA, meetup_id=5, at=T0),
        PairEvent("removed", BEN, at=T0),
        PairEvent("requested", BEN, reason="client_or_partner", at=later),
        PairEvent("accepted", ANA, reason="client_or_partner", at=later),
    ]
    view = project_pair(history)
    assert (view.trust, view.reason, view.since, view.meetings) == (
        "online",
        "client_or_partner",
        later,
        0,
    )
    more = [*history, PairEvent("checked_in_together", ANA, meetup_id=9, at=later)]
    more.append(PairEvent("met_claimed", BEN, meetup_id=9, at=later))
    assert project_pair(more).meetings == 1
    assert project_pair(more).trust == "verified"


def test_a_handshake_connects_with_met_in_person() -> None:
    view = project_pair([PairEvent("handshake", ANA, at=T0)])
    assert (view.trust, view.reason, view.since) == ("verified", "met_in_person", T0)


kinds = st.sampled_from(
    [
        "requested",
        "accepted",
        "declined",
        "removed",
        "blocked",
        "unblocked",
        "met_claimed",
        "met_retracted",
        "handshake",
    ]
)
histories = st.lists(
    st.builds(PairEvent, kind=kinds, actor=st.sampled_from([ANA, BEN]), at=st.just(T0)),
    max_size=12,
)


@given(histories)
def test_the_projection_agrees_with_derive_trust(history: list[PairEvent]) -> None:
    view = project_pair(history)
    assert view.trust == derive_trust(history)
    assert view.connected == (view.trust != "none")
    if not view.connected:
        assert (view.reason, view.since, view.meetings) == ("", None, 0)


@given(histories)
def test_a_removal_always_ends_the_connection(history: list[PairEvent]) -> None:
    assert project_pair([*history, PairEvent("removed", ANA)]).trust == "none"


@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=200))
def test_cooldown_ends_exactly_after_its_days(days_ago: int, cooldown: int) -> None:
    now = T0 + timedelta(days=500)
    left = cooldown_seconds_left(now - timedelta(days=days_ago), now, cooldown)
    if days_ago >= cooldown:
        assert left is None
    else:
        assert left == (cooldown - days_ago) * 86400
    assert cooldown_seconds_left(None, now, cooldown) is None
