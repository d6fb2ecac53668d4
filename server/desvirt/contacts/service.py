"""Contact use cases: the per-pair history, its projection, and the queries other features use.

`record_event` is the one way anything is written about a pair: it appends to the
append-only `ContactEvent` log and recomputes both people's `Contact` rows (and the `Block`
table) from the whole history, inside one write transaction. Requests, removals, blocks,
met claims and handshakes all go through it, so the projection never drifts from the log.

The seams `trust_levels`, `trust_level`, `blocked_either_way` and `may_propose` are called
by meetups and calendar code; keep their signatures.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

from piccolo.columns import Column

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.contacts import domain
from desvirt.contacts.domain import EVENT_KINDS, PairEvent, PairView
from desvirt.contacts.tables import Block, Contact, ContactEvent


async def trust_levels(viewer_id: int, other_ids: Collection[int]) -> dict[int, str]:
    """Trust level between the viewer and each of the others, in one query."""
    levels = {other: "none" for other in other_ids}
    if not levels:
        return levels
    rows = await Contact.select(Contact.other, Contact.trust).where(
        (Contact.owner == viewer_id) & (Contact.other.is_in(list(levels)))
    )
    for row in rows:
        levels[row["other"]] = row["trust"]
    return levels


async def trust_level(user_id: int, other_id: int) -> str:
    return (await trust_levels(user_id, [other_id]))[other_id]


async def blocked_either_way(user_id: int) -> set[int]:
    """Everyone this user blocked or was blocked by: to each other they look like nobody."""
    rows = await Block.select(Block.blocker, Block.blocked).where(
        (Block.blocker == user_id) | (Block.blocked == user_id)
    )
    return {row["blocked"] if row["blocker"] == user_id else row["blocker"] for row in rows}


async def may_propose(host_id: int, invitee_id: int) -> bool:
    """Whether the invitee's charter (`proposals_from`) and blocks let this host propose."""
    from desvirt.contacts.domain import trust_at_least

    if host_id == invitee_id:
        return False
    if invitee_id in await blocked_either_way(host_id):
        return False
    row = await User.select(User.proposals_from).where(User.id == invitee_id).first()
    if row is None:
        return False
    return trust_at_least(await trust_level(host_id, invitee_id), row["proposals_from"])


async def record_event(
    actor_id: int,
    other_id: int,
    kind: str,
    *,
    reason: str | None = None,
    message: str = "",
    meetup_id: int | None = None,
    met_on: date | None = None,
    request_id: int | None = None,
) -> PairView:
    """Append one event to the pair's history and recompute both sides' `Contact` rows.

    Runs inside the caller's transaction when one is open (call it from within
    `database.write_transaction()` together with your own writes), else opens a write
    transaction of its own. Returns the pair's projection after the event; `.trust` is the
    new trust level. `blocked`/`unblocked` also keep the `Block` table in step.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown contact event kind {kind!r}")
    if actor_id == other_id:
        raise ValueError("a contact event needs two different people")
    if database.current_engine().transaction_exists():
        return await _record_event(
            actor_id, other_id, kind, reason, message, meetup_id, met_on, request_id
        )
    async with database.write_transaction():
        return await _record_event(
            actor_id, other_id, kind, reason, message, meetup_id, met_on, request_id
        )


async def lock_pair(one: int, other: int) -> None:
    """Serialize writers of one pair on PostgreSQL (both user rows, in id order).

    SQLite needs nothing: `write_transaction()` already holds the database's write lock.
    """
    if database.is_sqlite():
        return
    low, high = domain.pair_of(one, other)
    await (
        User.select(User.id).where(User.id.is_in([low, high])).order_by(User.id).lock_rows("UPDATE")
    )


async def pair_events(one: int, other: int) -> list[dict[str, object]]:
    """The pair's whole history as rows, oldest first."""
    low, high = domain.pair_of(one, other)
    rows: list[dict[str, object]] = await (
        ContactEvent.select(
            ContactEvent.id,
            ContactEvent.actor,
            ContactEvent.kind,
            ContactEvent.reason,
            ContactEvent.message,
            ContactEvent.meetup,
            ContactEvent.met_on,
            ContactEvent.request,
            ContactEvent.created_at,
        )
        .where((ContactEvent.low == low) & (ContactEvent.high == high))
        .order_by(ContactEvent.id)
    )
    return rows


def as_pair_events(rows: list[dict[str, object]]) -> list[PairEvent]:
    return [
        PairEvent(
            kind=str(row["kind"]),
            actor=int(row["actor"]),  # type: ignore[call-overload]
            meetup_id=row["meetup"],  # type: ignore[arg-type]
            met_on=row["met_on"],  # type: ignore[arg-type]
            reason=row["reason"],  # type: ignore[arg-type]
            at=row["created_at"],  # type: ignore[arg-type]
        )
        for row in rows
    ]


async def _record_event(
    actor_id: int,
    other_id: int,
    kind: str,
    reason: str | None,
    message: str,
    meetup_id: int | None,
    met_on: date | None,
    request_id: int | None,
) -> PairView:
    await lock_pair(actor_id, other_id)
    low, high = domain.pair_of(actor_id, other_id)
    now = datetime.now(UTC)
    await ContactEvent.insert(
        ContactEvent(
            low=low,
            high=high,
            actor=actor_id,
            kind=kind,
            reason=reason,
            message=message,
            meetup=meetup_id,
            met_on=met_on,
            request=request_id,
            created_at=now,
        )
    )
    if kind == "blocked":
        exists = await Block.exists().where(
            (Block.blocker == actor_id) & (Block.blocked == other_id)
        )
        if not exists:
            await Block.insert(Block(blocker=actor_id, blocked=other_id, created_at=now))
    elif kind == "unblocked":
        await Block.delete().where((Block.blocker == actor_id) & (Block.blocked == other_id))
    view = domain.project_pair(as_pair_events(await pair_events(low, high)))
    await _project(low, high, view, now)
    return view


async def _project(low: int, high: int, view: PairView, now: datetime) -> None:
    """Make both `Contact` rows say what the history says: present while connected."""
    pair = ((Contact.owner == low) & (Contact.other == high)) | (
        (Contact.owner == high) & (Contact.other == low)
    )
    if not view.connected:
        await Contact.delete().where(pair)
        return
    existing = await Contact.count().where(pair)
    values: dict[Column | str, object] = {
        Contact.trust: view.trust,
        Contact.reason: view.reason,
        Contact.since: view.since or now,
        Contact.meetings: view.meetings,
        Contact.updated_at: now,
    }
    if existing == 2:
        await Contact.update(values).where(pair)
        return
    await Contact.delete().where(pair)
    await Contact.insert(
        *(
            Contact(
                owner=owner,
                other=other,
                trust=view.trust,
                reason=view.reason,
                since=view.since or now,
                meetings=view.meetings,
                updated_at=now,
            )
            for owner, other in ((low, high), (high, low))
        )
    )
