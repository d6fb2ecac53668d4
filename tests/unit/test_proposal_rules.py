"""Candidate times of a proposal and the counting of votes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desvirt.accounts.domain import FieldError
from desvirt.meetups.domain import VOTE_ANSWERS, check_time_options, tally

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_candidate_times_are_read_in_the_meetups_zone_and_sorted() -> None:
    options = check_time_options(
        [("2026-12-02T19:00", "2026-12-02T21:00"), ("2026-12-01T19:00", "2026-12-01T20:00")],
        "Europe/Berlin",
        now=NOW,
    )
    assert [o.starts_at for o in options] == [
        datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [("2026-12-01T19:00", "2026-12-01T20:00")] * 2,
        [("2026-12-01T19:00", "2026-12-01T18:00")],
        [("2026-11-01T19:00", "2026-11-01T20:00")],
        [(f"2026-12-0{d}T19:00", f"2026-12-0{d}T20:00") for d in range(1, 7)],
        [("tomorrow", "2026-12-01T20:00")],
    ],
)
def test_unusable_candidate_times_are_refused_on_the_time_options_field(
    raw: list[tuple[str, str]],
) -> None:
    with pytest.raises(FieldError) as refused:
        check_time_options(raw, "UTC", now=NOW)
    assert refused.value.field == "time_options"


@given(st.lists(st.tuples(st.integers(1, 5), st.sampled_from(VOTE_ANSWERS))))
def test_every_vote_is_counted_once(votes: list[tuple[int, str]]) -> None:
    counts = tally(votes)
    assert sum(sum(per.values()) for per in counts.values()) == len(votes)
    for option_id, answer in set(votes):
        assert counts[option_id][answer] == votes.count((option_id, answer))
