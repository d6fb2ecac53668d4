"""Properties of trust derived from a pair's history: what holds for every history.

Histories are random sequences of the events two people (and a host's check-ins) can
produce; each property states what a user could rely on whatever happened before.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from desvirt.contacts.domain import EVENT_KINDS, TRUST_LEVELS, PairEvent, derive_trust
from desvirt.met.domain import is_connected, live_claims

ANA, BEN, HOST = 1, 2, 3
MEETUPS = st.one_of(st.none(), st.sampled_from([10, 11]))
DAYS = st.one_of(st.none(), st.sampled_from([date(2026, 5, 1), date(2026, 6, 1)]))
SIDES = st.sampled_from([ANA, BEN])


def event(
    kind: str, actor: int, meetup_id: int | None = None, met_on: date | None = None
) -> PairEvent:
    return PairEvent(kind, actor, meetup_id=meetup_id, met_on=met_on)


events = st.one_of(
    st.builds(event, st.sampled_from(["requested", "accepted", "declined", "removed"]), SIDES),
    st.builds(event, st.sampled_from(["blocked", "unblocked", "handshake"]), SIDES),
    st.builds(event, st.just("met_claimed"), SIDES, MEETUPS, DAYS),
    st.builds(event, st.just("met_retracted"), SIDES),
    st.builds(event, st.just("checked_in_together"), st.just(HOST), st.sampled_from([10, 11])),
)
histories = st.lists(events, max_size=14)
claims = st.builds(event, st.just("met_claimed"), SIDES, MEETUPS, DAYS)


def swap_sides(history: list[PairEvent]) -> list[PairEvent]:
    other = {ANA: BEN, BEN: ANA, HOST: HOST}
    return [PairEvent(e.kind, other[e.actor], e.meetup_id, e.met_on) for e in history]


def has_standing_block(history: list[PairEvent]) -> bool:
    blockers: set[int] = set()
    for e in history:
        if e.kind == "blocked":
            blockers.add(e.actor)
        elif e.kind == "unblocked":
            blockers.discard(e.actor)
    return bool(blockers)


@given(histories)
def test_every_history_has_one_of_the_four_levels(history: list[PairEvent]) -> None:
    assert derive_trust(history) in TRUST_LEVELS
    assert {e.kind for e in history} <= set(EVENT_KINDS)


@given(histories)
def test_trust_is_the_same_seen_from_either_side(history: list[PairEvent]) -> None:
    assert derive_trust(swap_sides(history)) == derive_trust(history)


@given(histories)
def test_without_a_connection_there_is_no_trust(history: list[PairEvent]) -> None:
    if not is_connected(history):
        assert derive_trust(history) == "none"


@given(histories, SIDES, st.lists(events, max_size=6))
def test_a_standing_block_hides_everything_whatever_happens_after(
    history: list[PairEvent], blocker: int, later: list[PairEvent]
) -> None:
    later_without_unblock = [e for e in later if not (e.kind == "unblocked" and e.actor == blocker)]
    assert derive_trust([*history, event("blocked", blocker), *later_without_unblock]) == "none"


@given(histories)
def test_blocks_win_over_handshakes_and_claims(history: list[PairEvent]) -> None:
    if has_standing_block(history):
        assert derive_trust(history) == "none"


@given(histories, SIDES)
def test_unblocking_restores_nothing_by_itself(history: list[PairEvent], side: int) -> None:
    blocked = [*history, event("blocked", side), event("unblocked", side)]
    assert derive_trust(blocked) == "none"


@given(histories, claims)
def test_claiming_then_retracting_is_the_same_as_just_retracting(
    history: list[PairEvent], claim: PairEvent
) -> None:
    retract = event("met_retracted", claim.actor)
    assert derive_trust([*history, claim, retract]) == derive_trust([*history, retract])


@given(histories, claims)
def test_retracting_twice_is_the_same_as_retracting_once(
    history: list[PairEvent], claim: PairEvent
) -> None:
    retract = event("met_retracted", claim.actor)
    once = [*history, claim, retract]
    assert derive_trust([*once, retract]) == derive_trust(once)


@given(histories, claims)
def test_repeating_the_same_claim_changes_nothing(
    history: list[PairEvent], claim: PairEvent
) -> None:
    assert derive_trust([*history, claim, claim]) == derive_trust([*history, claim])


@given(histories, claims, claims)
def test_the_order_of_the_two_sides_claims_does_not_matter(
    history: list[PairEvent], first: PairEvent, second: PairEvent
) -> None:
    second = PairEvent(
        second.kind, BEN if first.actor == ANA else ANA, second.meetup_id, second.met_on
    )
    assert derive_trust([*history, first, second]) == derive_trust([*history, second, first])


@given(histories, st.sampled_from([10, 11]), st.integers(min_value=0, max_value=14))
def test_check_in_evidence_counts_wherever_it_sits_in_the_history(
    history: list[PairEvent], meetup: int, position: int
) -> None:
    evidence = event("checked_in_together", HOST, meetup)
    at_start = [evidence, *history]
    inside = [*history[:position], evidence, *history[position:]]
    assert derive_trust(at_start) == derive_trust(inside) == derive_trust([*history, evidence])


@given(histories, SIDES)
def test_a_handshake_after_anything_is_verified(history: list[PairEvent], side: int) -> None:
    assert derive_trust([*history, event("handshake", side)]) in (
        ("none",) if has_standing_block(history) else ("verified",)
    )


@given(histories, st.sampled_from([10, 11]), DAYS)
def test_both_sides_claiming_the_same_meetup_verify_a_connected_pair(
    history: list[PairEvent], meetup: int, day: date | None
) -> None:
    both = [
        *history,
        event("met_claimed", ANA, meetup, day),
        event("met_claimed", BEN, meetup, day),
    ]
    if is_connected(both) and not has_standing_block(both):
        assert derive_trust(both) == "verified"


@given(histories, SIDES, st.sampled_from([10, 11]))
def test_one_claim_at_a_meetup_where_both_were_checked_in_verifies(
    history: list[PairEvent], side: int, meetup: int
) -> None:
    with_evidence = [
        *history,
        event("checked_in_together", HOST, meetup),
        event("met_claimed", side, meetup),
    ]
    if is_connected(with_evidence) and not has_standing_block(with_evidence):
        assert derive_trust(with_evidence) == "verified"


@given(histories, claims)
def test_a_claim_never_lowers_trust_when_its_author_had_none_standing(
    history: list[PairEvent], claim: PairEvent
) -> None:
    if claim.actor in live_claims(history):
        return
    before = TRUST_LEVELS.index(derive_trust(history))
    after = TRUST_LEVELS.index(derive_trust([*history, claim]))
    assert after >= before


@given(histories, SIDES)
def test_removal_brings_any_trust_back_to_none(history: list[PairEvent], side: int) -> None:
    assert derive_trust([*history, event("removed", side)]) == "none"


@given(histories)
def test_a_connected_pair_without_claims_or_handshake_is_online(history: list[PairEvent]) -> None:
    relevant = [e for e in history if e.kind not in ("met_claimed", "handshake")]
    if is_connected(relevant) and not has_standing_block(relevant):
        assert derive_trust(relevant) == "online"


@given(histories)
def test_met_needs_a_standing_claim(history: list[PairEvent]) -> None:
    if derive_trust(history) == "met":
        assert live_claims(history)
