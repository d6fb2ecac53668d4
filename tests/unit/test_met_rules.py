"""Rules of meeting in person: handshake codes people can type, and what a met claim may say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desvirt.accounts.domain import FieldError
from desvirt.contacts.domain import PairEvent
from desvirt.met.domain import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Attendance,
    check_day_of_meetup,
    check_meetup_claim,
    check_met_on,
    checklist_order,
    code_digest,
    code_from_number,
    live_claims,
    normalize_code,
)

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
THERE = Attendance(user_id=1, status="going", checked_in=False)
ANA, BEN = 1, 2


@given(st.integers(min_value=0, max_value=len(CODE_ALPHABET) ** CODE_LENGTH - 1))
def test_every_code_reads_back_as_itself_however_it_is_typed(number: int) -> None:
    code = code_from_number(number)
    assert len(code) == CODE_LENGTH + 1 and code[4] == "-"
    assert normalize_code(code) == code
    assert normalize_code(code.lower().replace("-", " ")) == code
    assert normalize_code(code.replace("0", "o").replace("1", "l")) == code


@pytest.mark.parametrize("typed", ["", "ABC", "ABCD-EFGH-J", "ABCD-EFG!", "ümlaut12"])
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    assert normalize_code(typed) is None


def test_codes_are_stored_under_a_keyed_hash() -> None:
    digest = code_digest("secret", "ABCD-EFGH")
    assert len(digest) == 64 and "ABCD" not in digest
    assert digest != code_digest("another secret", "ABCD-EFGH")


def test_a_day_in_the_future_cannot_be_the_day_people_met() -> None:
    today = date(2026, 11, 25)
    assert check_met_on(today, today) == today
    assert check_met_on(None, today) is None
    with pytest.raises(FieldError) as refused:
        check_met_on(today + timedelta(days=1), today)
    assert refused.value.field == "met_on"


def test_a_claim_naming_a_meetup_needs_it_to_have_begun_with_both_there() -> None:
    check_meetup_claim(starts_at=NOW, status="scheduled", now=NOW, claimer=THERE, other=THERE)
    away = Attendance(user_id=2, status="maybe", checked_in=False)
    for starts_at, status, claimer, other in [
        (NOW + timedelta(minutes=1), "scheduled", THERE, THERE),
        (None, "proposed", THERE, THERE),
        (NOW, "cancelled", THERE, THERE),
        (NOW, "scheduled", away, THERE),
        (NOW, "scheduled", THERE, away),
    ]:
        with pytest.raises(FieldError):
            check_meetup_claim(
                starts_at=starts_at, status=status, now=NOW, claimer=claimer, other=other
            )


def test_hosts_and_checked_in_people_were_there_whatever_they_answered() -> None:
    assert Attendance(user_id=1, status=None, checked_in=False, is_host=True).was_there
    assert Attendance(user_id=1, status="maybe", checked_in=True).was_there
    assert not Attendance(user_id=1, status="waitlisted", checked_in=False).was_there


def test_a_claimed_day_must_be_a_day_of_the_meetup() -> None:
    first, last = date(2026, 5, 1), date(2026, 5, 2)
    check_day_of_meetup(None, first, last)
    check_day_of_meetup(last, first, last)
    with pytest.raises(FieldError):
        check_day_of_meetup(date(2026, 5, 3), first, last)


def test_the_checklist_lists_checked_in_people_first_then_by_name() -> None:
    people = [
        (Attendance(1, "going", False), "ana"),
        (Attendance(2, "going", True), "Zoe"),
        (Attendance(3, "going", False), "Ben"),
        (Attendance(4, "going", True), "carla"),
    ]
    assert [name for _, name in checklist_order(people)] == ["carla", "Zoe", "ana", "Ben"]


def test_standing_claims_follow_retractions_and_removals() -> None:
    history = [
        PairEvent("accepted", BEN),
        PairEvent("met_claimed", ANA, meetup_id=4),
        PairEvent("met_claimed", BEN),
        PairEvent("met_retracted", BEN),
    ]
    assert set(live_claims(history)) == {ANA}
    assert live_claims(history)[ANA].meetup_id == 4
    assert live_claims([*history, PairEvent("removed", ANA)]) == {}
