"""Meetup rules without a database: valid meetups, seats, the waitlist and its promotion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desvirt.accounts.domain import FieldError
from desvirt.meetups import domain
from desvirt.meetups.domain import MeetupDraft, NoSeats, Seat

GOOD = MeetupDraft(
    title="Afterwork #desvirt Madrid",
    starts_at="2030-03-05T19:00",
    ends_at="2030-03-05T22:00",
    timezone="Europe/Madrid",
    capacity="10",
)


def test_a_wall_clock_time_is_read_in_the_meetups_zone_and_stored_in_utc() -> None:
    fields = domain.check_meetup(GOOD)
    assert fields.starts_at == datetime(2030, 3, 5, 18, 0, tzinfo=UTC)
    assert fields.capacity == 10


def test_a_time_with_an_offset_keeps_its_instant() -> None:
    fields = domain.check_meetup(
        MeetupDraft(**{**GOOD.__dict__, "starts_at": "2030-03-05T19:00:00+02:00"})
    )
    assert fields.starts_at == datetime(2030, 3, 5, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2030-03-05T18:00"}, "ends_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"capacity": "-3"}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"visibility": "secret"}, "visibility"),
        ({"title": "   "}, "title"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"latitude": "95", "longitude": "3"}, "latitude"),
        ({"contacts_min_trust": "none"}, "contacts_min_trust"),
    ],
)
def test_bad_meetup_fields_are_refused_naming_the_field(change: dict[str, str], field: str) -> None:
    draft = MeetupDraft(**{**GOOD.__dict__, **change})
    with pytest.raises(FieldError) as refused:
        domain.check_meetup(draft)
    assert refused.value.field == field
    assert field in {problem.field for problem in domain.meetup_problems(draft)}


def test_every_problem_of_a_form_is_reported_at_once() -> None:
    draft = MeetupDraft(title="", starts_at="x", ends_at="", timezone="Nowhere", capacity="0")
    fields = {problem.field for problem in domain.meetup_problems(draft)}
    assert {"title", "starts_at", "ends_at", "timezone", "capacity"} <= fields


def test_a_meetup_that_is_already_over_cannot_be_created() -> None:
    with pytest.raises(FieldError) as refused:
        domain.check_meetup(GOOD, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert refused.value.field == "ends_at"


def test_capacity_cannot_drop_below_the_seats_taken() -> None:
    with pytest.raises(FieldError) as refused:
        domain.check_capacity_change(3, seats_taken=5)
    assert refused.value.field == "capacity"
    domain.check_capacity_change(5, seats_taken=5)
    domain.check_capacity_change(None, seats_taken=500)


def test_slugs_are_readable_and_ascii() -> None:
    assert domain.new_slug("¡Cañas en Düsseldorf!", "abc123") == "canas-en-dusseldorf-abc123"
    assert domain.new_slug("🙂", "abc123") == "meetup-abc123"


def test_descriptions_keep_links_and_lose_scripts_and_handlers() -> None:
    html = domain.render_description(
        "**Hola** [web](https://example.org) <script>alert(1)</script>"
        ' <img src=x onerror="alert(1)"> [bad](javascript:alert(1))'
    )
    assert "<strong>Hola</strong>" in html
    assert 'href="https://example.org"' in html
    assert "<script" not in html
    assert "<img" not in html  # raw HTML is shown as text, never as a tag
    assert 'href="javascript' not in html


def test_map_links_use_coordinates_or_the_address() -> None:
    assert "mlat=40.416800" in domain.map_url(40.4168, -3.7038)
    assert "search?query=Calle+Mayor" in domain.map_url(None, None, "Calle Mayor 1")
    assert domain.map_url(None, None, "") == ""


def yes(seats: list[Seat], user: int, capacity: int | None, guests: int = 0) -> list[Seat]:
    return domain.answer(
        seats, capacity=capacity, requires_approval=False, user_id=user, response="yes",
        guests=guests,
    )  # fmt: skip


def status_of(seats: list[Seat], user: int) -> Seat:
    return next(seat for seat in seats if seat.user_id == user)


def test_a_yes_takes_a_seat_until_full_then_waits_in_line() -> None:
    seats: list[Seat] = []
    for user in (1, 2, 3):
        seats = yes(seats, user, capacity=2)
    assert [s.status for s in seats] == ["going", "going", "waitlisted"]
    assert status_of(seats, 3).waitlist_position == 1


def test_waitlisted_guest_moves_up_when_a_seat_frees() -> None:
    seats: list[Seat] = []
    for user in (1, 2, 3, 4):
        seats = yes(seats, user, capacity=2)
    seats = domain.answer(seats, capacity=2, requires_approval=False, user_id=1, response="no")
    assert status_of(seats, 3).status == "going"
    assert status_of(seats, 4).waitlist_position == 1
    assert domain.seats_taken(seats) == 2


def test_guests_count_against_capacity() -> None:
    seats = yes([], 1, capacity=3, guests=2)
    seats = yes(seats, 2, capacity=3)
    assert status_of(seats, 2).status == "waitlisted"


def test_a_person_going_cannot_add_guests_beyond_the_free_seats() -> None:
    seats = yes(yes([], 1, capacity=3), 2, capacity=3)
    with pytest.raises(NoSeats) as full:
        yes(seats, 1, capacity=3, guests=2)
    assert full.value.seats_left == 1
    assert status_of(yes(seats, 1, capacity=3, guests=1), 1).guests == 1


def test_nobody_overtakes_the_head_of_the_waitlist() -> None:
    seats = yes(yes([], 1, capacity=3, guests=1), 2, capacity=3, guests=2)
    assert status_of(seats, 2).status == "waitlisted"
    seats = yes(seats, 3, capacity=3)
    assert status_of(seats, 3).status == "waitlisted"
    assert status_of(seats, 3).waitlist_position == 2
    seats = domain.answer(seats, capacity=3, requires_approval=False, user_id=1, response="no")
    assert [status_of(seats, user).status for user in (2, 3)] == ["going", "waitlisted"]


def test_approval_required_answers_wait_for_the_host() -> None:
    seats = domain.answer(
        [], capacity=5, requires_approval=True, user_id=1, response="yes", guests=1
    )
    assert status_of(seats, 1).status == "pending_approval"
    seats = domain.answer(
        seats, capacity=5, requires_approval=True, user_id=1, response="yes", guests=1,
        approved=True,
    )  # fmt: skip
    assert status_of(seats, 1).status == "going"
    assert domain.seats_taken(seats) == 2


def test_raising_capacity_promotes_the_waitlist() -> None:
    seats: list[Seat] = []
    for user in range(1, 6):
        seats = yes(seats, user, capacity=2)
    seats = domain.promote(seats, 4)
    assert [s.status for s in seats] == ["going"] * 4 + ["waitlisted"]
    assert status_of(seats, 5).waitlist_position == 1


actions = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=8),  # who
        st.sampled_from(["yes", "yes", "yes", "maybe", "no", "approve", "decline"]),
        st.integers(min_value=0, max_value=3),  # guests
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    capacity=st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
    requires_approval=st.booleans(),
    steps=actions,
)
def test_no_sequence_of_answers_overbooks_or_leaves_gaps(
    capacity: int | None, requires_approval: bool, steps: list[tuple[int, str, int]]
) -> None:
    seats: list[Seat] = []
    for user, action, guests in steps:
        current = next((s for s in seats if s.user_id == user), None)
        if action == "decline":
            seats = domain.decline_request(seats, user)
        else:
            approve = action == "approve"
            if approve and (current is None or current.status != "pending_approval"):
                continue
            try:
                seats = domain.answer(
                    seats,
                    capacity=capacity,
                    requires_approval=requires_approval,
                    user_id=user,
                    response="yes" if approve else action,
                    guests=current.guests if approve and current else guests,
                    approved=approve,
                )
            except NoSeats:
                assert current is not None and current.status == "going"
                continue
        taken = domain.seats_taken(seats)
        # Never more seats than capacity.
        assert capacity is None or taken <= capacity
        # One answer per person.
        assert len({s.user_id for s in seats}) == len(seats)
        # The waitlist is numbered 1..n without gaps, and only the waitlisted have numbers.
        waiting = sorted(s.waitlist_position or 0 for s in seats if s.status == "waitlisted")
        assert waiting == list(range(1, len(waiting) + 1))
        assert all(s.waitlist_position is None for s in seats if s.status != "waitlisted")
        # Nobody waits while the head of the line would fit.
        head = next((s for s in seats if s.waitlist_position == 1), None)
        if head is not None:
            assert capacity is not None and head.party > capacity - taken
        if not requires_approval:
            assert all(s.status != "pending_approval" for s in seats)
