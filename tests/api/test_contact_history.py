"""The pair's history is the truth: every event appended, both sides' rows recomputed."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.contacts import service
from desvirt.contacts.tables import Block, Contact, ContactEvent
from tests.conftest import Backend

_numbers = itertools.count()


async def person(handle: str, **extra: object) -> int:
    """A user row without the signup ceremony (service tests only need an id)."""
    number = next(_numbers)
    user = User(
        email=f"{handle}@example.org",
        handle=handle,
        display_name=handle.capitalize(),
        password_hash="x",
        feed_nonce=f"nonce-{number}",
        feed_token_hash=f"hash-{handle}-{number}",
        **extra,
    )
    await user.save()
    return int(user.id)


async def test_an_accept_makes_both_sides_online_with_the_reason_kept(db: Backend) -> None:
    ana, ben = await person("ana"), await person("ben")
    await service.record_event(ana, ben, "requested", reason="read_your_work", message="Hola")
    assert await Contact.count() == 0
    view = await service.record_event(ben, ana, "accepted", reason="read_your_work")
    assert view.trust == "online"
    rows = await Contact.select().order_by(Contact.owner)
    assert [(r["owner"], r["other"], r["trust"], r["reason"]) for r in rows] == [
        (ana, ben, "online", "read_your_work"),
        (ben, ana, "online", "read_your_work"),
    ]
    assert await service.trust_levels(ana, [ben, 999]) == {ben: "online", 999: "none"}
    assert await service.trust_level(ben, ana) == "online"


async def test_met_claims_upgrade_both_rows_and_count_meetings(db: Backend) -> None:
    ana, ben = await person("ana"), await person("ben")
    await service.record_event(ben, ana, "accepted", reason="met_in_person")
    assert (await service.record_event(ana, ben, "met_claimed")).trust == "met"
    assert await service.trust_level(ben, ana) == "met"
    view = await service.record_event(ben, ana, "met_claimed")
    assert view.trust == "verified"
    assert {row["trust"] for row in await Contact.select(Contact.trust)} == {"verified"}


async def test_removal_deletes_both_rows_but_the_history_stays(db: Backend) -> None:
    ana, ben = await person("ana"), await person("ben")
    await service.record_event(ben, ana, "accepted", reason="ongoing_exchange")
    view = await service.record_event(ana, ben, "removed")
    assert view.trust == "none"
    assert await Contact.count() == 0
    assert [row["kind"] for row in await service.pair_events(ben, ana)] == [
        "accepted",
        "removed",
    ]


async def test_block_hides_both_ways_and_unblock_lifts_it(db: Backend) -> None:
    ana, ben, eva = await person("ana"), await person("ben"), await person("eva")
    await service.record_event(ben, ana, "accepted", reason="ongoing_exchange")
    await service.record_event(ana, ben, "blocked")
    assert await Contact.count() == 0
    assert await service.blocked_either_way(ana) == {ben}
    assert await service.blocked_either_way(ben) == {ana}
    assert await service.blocked_either_way(eva) == set()
    assert not await service.may_propose(ben, ana)
    await service.record_event(ana, ben, "blocked")
    assert await Block.count() == 1
    await service.record_event(ana, ben, "unblocked")
    assert await service.blocked_either_way(ben) == set()
    assert await ContactEvent.count() == 4


async def test_may_propose_follows_the_invitees_charter(db: Backend) -> None:
    ana = await person("ana", proposals_from="met")
    ben, eva = await person("ben"), await person("eva", proposals_from="anyone")
    assert await service.may_propose(ben, eva)
    assert not await service.may_propose(ben, ana)
    await service.record_event(ana, ben, "accepted", reason="met_in_person")
    assert not await service.may_propose(ben, ana)
    await service.record_event(ben, ana, "met_claimed")
    assert await service.may_propose(ben, ana)


async def test_record_event_joins_the_callers_write_transaction(db: Backend) -> None:
    ana, ben = await person("ana"), await person("ben")
    with pytest.raises(RuntimeError):
        async with database.write_transaction():
            await service.record_event(ben, ana, "accepted", reason="met_in_person")
            raise RuntimeError("the caller's own write failed")
    assert await ContactEvent.count() == 0
    assert await Contact.count() == 0


async def test_concurrent_events_on_one_pair_keep_the_projection_consistent(
    db: Backend,
) -> None:
    ana, ben = await person("ana"), await person("ben")
    await service.record_event(ben, ana, "accepted", reason="met_in_person")
    kinds = ["met_claimed", "met_retracted"] * 10
    await asyncio.gather(
        *(
            service.record_event(ana if i % 4 < 2 else ben, ana if i % 4 >= 2 else ben, kind)
            for i, kind in enumerate(kinds)
        )
    )
    expected = await service.record_event(ana, ben, "met_claimed")
    rows = await Contact.select(Contact.trust)
    assert len(rows) == 2
    assert {row["trust"] for row in rows} == {expected.trust}


async def test_unknown_kinds_and_self_pairs_are_programming_errors(db: Backend) -> None:
    ana, ben = await person("ana"), await person("ben")
    with pytest.raises(ValueError):
        await service.record_event(ana, ben, "befriended")
    with pytest.raises(ValueError):
        await service.record_event(ana, ana, "requested")
