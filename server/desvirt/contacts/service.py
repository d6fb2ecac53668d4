"""Contact use cases: the per-pair history, its projection, and the queries other features use.

`record_event` is the one way anything is written about a pair: it appends to the
append-only `ContactEvent` log and recomputes both people's `Contact` rows (and the `Block`
table) from the whole history, inside one write transaction. Requests, removals, blocks,
met claims and handshakes all go through it, so the projection never drifts from the log.

The seams `trust_levels`, `trust_level`, `blocked_either_way` and `may_propose` are called
by meetups and calendar code, `refuse_unwanted_request` and `breach_explanation` by met
claims that double as contact requests; keep their signatures.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import And, Or, Where

from desvirt import database
from desvirt.accounts.domain import FieldError, fold_text, retry_after_seconds
from desvirt.accounts.service import charter_of
from desvirt.accounts.tables import User
from desvirt.contacts import domain
from desvirt.contacts.domain import EVENT_KINDS, TRUST_LEVELS, PairEvent, PairView
from desvirt.contacts.tables import Block, Contact, ContactEvent, ContactRequest
from desvirt.errors import Conflict, DesvirtError, NotFound, RateLimited
from desvirt.i18n import N_, gettext
from desvirt.settings import Settings

NO_SUCH_PERSON = N_("No one here has this handle.")
PENDING_RETRY_AFTER_SECONDS = 3600


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


# --- people as a viewer may see them ----------------------------------------------------------


async def visible_person(viewer_id: int | None, handle: str) -> User:
    """The person behind a handle, unless they blocked the viewer: then they are nobody."""
    person = await User.objects().where(User.handle == handle.strip().lstrip("@").lower()).first()
    if person is None:
        raise NotFound(NO_SUCH_PERSON, code="no_such_person")
    if viewer_id is not None and viewer_id != person.id:
        blocked_by_them = await Block.exists().where(
            (Block.blocker == person.id) & (Block.blocked == viewer_id)
        )
        if blocked_by_them:
            raise NotFound(NO_SUCH_PERSON, code="no_such_person")
    return person


# --- contact requests -----------------------------------------------------------------------


@dataclass
class RequestView:
    """A request as the API and pages show it; `history` is the pair's earlier story."""

    id: int
    from_handle: str
    from_display_name: str
    to_handle: str
    to_display_name: str
    reason: str
    message: str
    status: str
    declined_rule: str | None
    explanation: str | None
    created_at: datetime
    answered_at: datetime | None
    history: list[HistoryEntry] = field(default_factory=list)


@dataclass
class HistoryEntry:
    kind: str
    actor_handle: str
    at: datetime
    reason: str | None = None


async def send_request(
    settings: Settings,
    sender: User,
    *,
    to_handle: str,
    reason: str,
    message: str,
    now: datetime | None = None,
) -> RequestView:
    """Ask someone to connect, under their charter and the instance's anti-spam limits.

    A request that breaks the recipient's charter is stored as `auto_declined` with the
    rule, and the returned view carries a polite explanation in the sender's language; a
    missing message where one is required is refused outright (422) so it can be fixed.
    """
    message = domain.check_request(reason, message)
    recipient = await visible_person(sender.id, to_handle)
    if recipient.id == sender.id:
        raise FieldError("to_handle", N_("You cannot send a contact request to yourself."))
    charter = charter_of(recipient)
    rule = domain.charter_breach(charter, reason, message)
    if rule == "message_required":
        raise DesvirtError(
            domain.EXPLANATIONS[rule],
            status_code=422,
            code="message_required",
            field="message",
            name=recipient.display_name,
        )
    async with database.write_transaction():
        await lock_pair(sender.id, recipient.id)
        now = now or datetime.now(UTC)
        await refuse_unwanted_request(settings, sender, recipient, now)
        request = ContactRequest(
            sender=sender.id,
            recipient=recipient.id,
            reason=reason,
            message=message,
            status="auto_declined" if rule else "pending",
            declined_rule=rule,
            created_at=now,
            answered_at=now if rule else None,
        )
        await request.save()
        await record_event(
            sender.id,
            recipient.id,
            "requested",
            reason=reason,
            message=message,
            request_id=request.id,
        )
        if rule:
            await record_event(recipient.id, sender.id, "declined", request_id=request.id)
    views = await _request_views(sender, [request.id])
    return views[0]


async def answer_request(viewer: User, request_id: int, accept: bool) -> RequestView:
    """The recipient accepts (connected, `online`, reason kept) or declines a pending request."""
    async with database.write_transaction():
        row = (
            await ContactRequest.select(
                ContactRequest.sender, ContactRequest.status, ContactRequest.reason
            )
            .where((ContactRequest.id == request_id) & (ContactRequest.recipient == viewer.id))
            .first()
        )
        if row is None or row["status"] == "auto_declined":
            raise NotFound(N_("No such contact request."), code="no_such_request")
        await lock_pair(viewer.id, row["sender"])
        if row["sender"] in await blocked_either_way(viewer.id):
            raise NotFound(N_("No such contact request."), code="no_such_request")
        status = (
            await ContactRequest.select(ContactRequest.status)
            .where(ContactRequest.id == request_id)
            .first()
        )
        if status is None or status["status"] != "pending":
            raise Conflict(
                N_("This request was already answered or withdrawn."), code="already_answered"
            )
        now = datetime.now(UTC)
        await ContactRequest.update(
            {
                ContactRequest.status: "accepted" if accept else "declined",
                ContactRequest.answered_at: now,
            }
        ).where(ContactRequest.id == request_id)
        await record_event(
            viewer.id,
            row["sender"],
            "accepted" if accept else "declined",
            reason=row["reason"] if accept else None,
            request_id=request_id,
        )
    return (await _request_views(viewer, [request_id]))[0]


async def withdraw_request(viewer: User, request_id: int) -> None:
    """The sender takes back a pending request (it stops counting as pending)."""
    async with database.write_transaction():
        updated = await (
            ContactRequest.update({ContactRequest.status: "withdrawn"})
            .where(
                (ContactRequest.id == request_id)
                & (ContactRequest.sender == viewer.id)
                & (ContactRequest.status == "pending")
            )
            .returning(ContactRequest.id)
        )
    if not updated:
        raise NotFound(N_("No such pending request of yours."), code="no_such_request")


async def list_requests(
    viewer: User,
    direction: str,
    *,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> list[RequestView]:
    """Incoming (never the ones the charter declined, never from blocked people) or
    outgoing requests, newest first, each with the pair's earlier history."""
    where: Where | And | Or
    if direction == "incoming":
        where = (ContactRequest.recipient == viewer.id) & (ContactRequest.status != "auto_declined")
        blocked = await blocked_either_way(viewer.id)
        if blocked:
            where = where & ContactRequest.sender.not_in(list(blocked))
    else:
        where = ContactRequest.sender == viewer.id
    if status is not None:
        where = where & (ContactRequest.status == status)
    rows = await (
        ContactRequest.select(ContactRequest.id)
        .where(where)
        .order_by(ContactRequest.created_at, ascending=False)
        .order_by(ContactRequest.id, ascending=False)
        .limit(per_page)
        .offset((_page_number(page) - 1) * per_page)
    )
    return await _request_views(viewer, [row["id"] for row in rows])


async def refuse_unwanted_request(
    settings: Settings, sender: User, recipient: User, now: datetime
) -> None:
    """Blocks, existing ties, the decline cooldown and the sender's rate limits.

    Raises the refusal (409 or 429); call it inside the write transaction that would store
    the request, with the pair locked (`lock_pair`).
    """
    if await Block.exists().where((Block.blocker == sender.id) & (Block.blocked == recipient.id)):
        raise Conflict(
            N_("You blocked this person. Unblock them first if you want to connect."),
            code="blocked",
        )
    if await Contact.exists().where((Contact.owner == sender.id) & (Contact.other == recipient.id)):
        raise Conflict(N_("You are already connected."), code="already_connected")
    open_requests = await ContactRequest.select(ContactRequest.sender).where(
        (ContactRequest.status == "pending")
        & (
            ((ContactRequest.sender == sender.id) & (ContactRequest.recipient == recipient.id))
            | ((ContactRequest.sender == recipient.id) & (ContactRequest.recipient == sender.id))
        )
    )
    for row in open_requests:
        if row["sender"] == sender.id:
            raise Conflict(
                N_("Your earlier request to this person is still waiting for an answer."),
                code="already_requested",
            )
        raise Conflict(
            N_("This person already asked to connect with you: answer their request instead."),
            code="they_asked_you",
        )
    last_decline = await (
        ContactRequest.select(ContactRequest.answered_at)
        .where(
            (ContactRequest.sender == sender.id)
            & (ContactRequest.recipient == recipient.id)
            & (ContactRequest.status == "declined")
        )
        .order_by(ContactRequest.answered_at, ascending=False)
        .first()
    )
    wait = domain.cooldown_seconds_left(
        last_decline["answered_at"] if last_decline else None, now, settings.decline_cooldown_days
    )
    if wait is not None:
        raise Conflict(
            N_("This person declined your request. Days before you may ask again: %(days)s."),
            code="cooldown",
            headers={"Retry-After": str(wait)},
            days=(wait + 86399) // 86400,
        )
    day = timedelta(days=1)
    recent = await (
        ContactRequest.select(ContactRequest.created_at)
        .where((ContactRequest.sender == sender.id) & (ContactRequest.created_at > now - day))
        .order_by(ContactRequest.created_at, ascending=False)
        .limit(max(settings.contact_requests_per_day, 1))
    )
    wait = retry_after_seconds(
        (row["created_at"] for row in recent), now, settings.contact_requests_per_day, day
    )
    if wait is not None:
        raise RateLimited(
            N_("You sent %(count)s contact requests in the last 24 hours. Please wait."),
            retry_after=wait,
            count=settings.contact_requests_per_day,
        )
    if settings.pending_requests_max > 0:
        pending = await ContactRequest.count().where(
            (ContactRequest.sender == sender.id) & (ContactRequest.status == "pending")
        )
        if pending >= settings.pending_requests_max:
            raise RateLimited(
                N_(
                    "%(count)s of your requests are still unanswered. Wait for answers or "
                    "withdraw some before asking more people."
                ),
                retry_after=PENDING_RETRY_AFTER_SECONDS,
                code="too_many_pending",
                count=settings.pending_requests_max,
            )


def breach_explanation(locale: str, rule: str, recipient_name: str, reason: str) -> str:
    """Why the recipient's charter declined a request (`rule`), politely, in `locale`."""
    return gettext(
        locale,
        domain.EXPLANATIONS[rule],
        name=recipient_name,
        reason=gettext(locale, domain.REASON_LABELS[reason]),
    )


async def _request_views(viewer: User, request_ids: list[int]) -> list[RequestView]:
    """Requests with names and each pair's earlier history, in two queries."""
    if not request_ids:
        return []
    rows = await ContactRequest.select(
        ContactRequest.id,
        ContactRequest.sender,
        ContactRequest.recipient,
        ContactRequest.sender.handle.as_alias("from_handle"),
        ContactRequest.sender.display_name.as_alias("from_display_name"),
        ContactRequest.recipient.handle.as_alias("to_handle"),
        ContactRequest.recipient.display_name.as_alias("to_display_name"),
        ContactRequest.reason,
        ContactRequest.message,
        ContactRequest.status,
        ContactRequest.declined_rule,
        ContactRequest.created_at,
        ContactRequest.answered_at,
    ).where(ContactRequest.id.is_in(request_ids))
    by_id = {row["id"]: row for row in rows}
    histories = await _histories(
        [(row["sender"], row["recipient"]) for row in rows], exclude_blocks=True
    )
    views = []
    for request_id in request_ids:
        row = by_id[request_id]
        pair = domain.pair_of(row["sender"], row["recipient"])
        rule = row["declined_rule"]
        explanation = None
        if rule and row["sender"] == viewer.id:
            explanation = breach_explanation(
                viewer.locale, rule, row["to_display_name"], row["reason"]
            )
        views.append(
            RequestView(
                id=row["id"],
                from_handle=row["from_handle"],
                from_display_name=row["from_display_name"],
                to_handle=row["to_handle"],
                to_display_name=row["to_display_name"],
                reason=row["reason"],
                message=row["message"],
                status=row["status"],
                declined_rule=rule,
                explanation=explanation,
                created_at=row["created_at"],
                answered_at=row["answered_at"],
                history=[
                    entry
                    for request, entry in histories.get(pair, [])
                    if request != request_id and entry.at <= row["created_at"]
                ],
            )
        )
    return views


HISTORY_KINDS = ("requested", "accepted", "declined", "removed", "handshake")


async def _histories(
    pairs: list[tuple[int, int]], *, exclude_blocks: bool
) -> dict[tuple[int, int], list[tuple[int | None, HistoryEntry]]]:
    """The relationship events of several pairs in one query, keyed by (low, high)."""
    keys = {domain.pair_of(one, other) for one, other in pairs}
    if not keys:
        return {}
    rows = await (
        ContactEvent.select(
            ContactEvent.low,
            ContactEvent.high,
            ContactEvent.kind,
            ContactEvent.reason,
            ContactEvent.request,
            ContactEvent.created_at,
            ContactEvent.actor.handle.as_alias("actor_handle"),
        )
        .where(
            ContactEvent.low.is_in(sorted({low for low, _ in keys}))
            & ContactEvent.high.is_in(sorted({high for _, high in keys}))
            & ContactEvent.kind.is_in(list(HISTORY_KINDS))
        )
        .order_by(ContactEvent.id)
    )
    found: dict[tuple[int, int], list[tuple[int | None, HistoryEntry]]] = {}
    for row in rows:
        key = (row["low"], row["high"])
        if key in keys:
            found.setdefault(key, []).append(
                (
                    row["request"],
                    HistoryEntry(
                        kind=row["kind"],
                        actor_handle=row["actor_handle"],
                        at=row["created_at"],
                        reason=row["reason"],
                    ),
                )
            )
    return found


# --- the contact list, one contact, removal and blocks ------------------------------------------

CONTACTS_PER_PAGE_MAX = 200
PAGE_MAX = 1_000_000  # beyond any real list


def _page_number(page: int) -> int:
    """A page to read: the first for nonsense, none past PAGE_MAX (so OFFSET stays inside
    the databases' 64-bit integers)."""
    return min(max(1, page), PAGE_MAX)


@dataclass
class ContactSummary:
    handle: str
    display_name: str
    trust: str
    reason: str
    since: datetime
    meetings: int


@dataclass
class ContactPage:
    contacts: list[ContactSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class TimelineEntry:
    kind: str
    actor_handle: str
    at: datetime
    reason: str | None = None
    message: str = ""
    meetup_slug: str | None = None
    met_on: date | None = None
    by_charter: bool = False  # a `declined` the recipient's charter made, not a person


@dataclass
class ContactDetail:
    """One relationship as one of its two people sees it."""

    handle: str
    display_name: str
    trust: str
    reason: str
    since: datetime | None
    meetings: int
    blocked: bool
    timeline: list[TimelineEntry]


async def list_contacts(
    viewer: User,
    *,
    trust: str | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ContactPage:
    """The viewer's contacts by name, filtered by trust level and name: two queries."""
    if trust is not None and trust not in TRUST_LEVELS[1:]:
        raise FieldError("trust", N_("Filter by one of: online, met, verified."))
    page = _page_number(page)
    per_page = min(max(1, per_page), CONTACTS_PER_PAGE_MAX)
    where: Where | And | Or = Contact.owner == viewer.id
    if trust is not None:
        where = where & (Contact.trust == trust)
    words = fold_text(search or "").split()
    for word in words[:5]:
        # `_` stays a one-character wildcard: it only ever widens a name search a little.
        pattern = "%" + word.replace("%", "").replace("\\", "") + "%"
        where = where & Contact.other.search_name.like(pattern)
    total = await Contact.count().where(where)
    rows = await (
        Contact.select(
            Contact.other.handle.as_alias("handle"),
            Contact.other.display_name.as_alias("display_name"),
            Contact.trust,
            Contact.reason,
            Contact.since,
            Contact.meetings,
        )
        .where(where)
        .order_by(Contact.other.display_name, Contact.other.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return ContactPage(
        contacts=[ContactSummary(**row) for row in rows],
        total=total,
        page=page,
        per_page=per_page,
    )


async def contact_detail(viewer: User, handle: str) -> ContactDetail:
    """One relationship with its timeline; only the two people may see it (else 404)."""
    other = await visible_person(viewer.id, handle)
    if other.id == viewer.id:
        raise NotFound(N_("You are not your own contact."), code="no_such_contact")
    rows = await _timeline_rows(viewer.id, other.id)
    contact = (
        await Contact.select()
        .where((Contact.owner == viewer.id) & (Contact.other == other.id))
        .first()
    )
    if contact is None and not rows:
        raise NotFound(N_("This person is not among your contacts."), code="no_such_contact")
    blocked = await Block.exists().where((Block.blocker == viewer.id) & (Block.blocked == other.id))
    timeline = [
        TimelineEntry(
            kind=row["kind"],
            actor_handle=row["actor_handle"],
            at=row["created_at"],
            reason=row["reason"],
            message=row["message"] or "",
            meetup_slug=row["meetup_slug"],
            met_on=row["met_on"],
            by_charter=row["kind"] == "declined" and bool(row["declined_rule"]),
        )
        for row in rows
        # A block is the blocker's business: the other side never learns of it.
        if row["kind"] not in ("blocked", "unblocked") or row["actor"] == viewer.id
    ]
    return ContactDetail(
        handle=other.handle,
        display_name=other.display_name,
        trust=contact["trust"] if contact else "none",
        reason=contact["reason"] if contact else "",
        since=contact["since"] if contact else None,
        meetings=contact["meetings"] if contact else 0,
        blocked=blocked,
        timeline=timeline,
    )


async def remove_contact(viewer: User, handle: str) -> None:
    """End a connection; the removal stays in the pair's history for both to see."""
    other = await visible_person(viewer.id, handle)
    async with database.write_transaction():
        await lock_pair(viewer.id, other.id)
        connected = await Contact.exists().where(
            (Contact.owner == viewer.id) & (Contact.other == other.id)
        )
        if not connected:
            raise NotFound(N_("This person is not among your contacts."), code="no_such_contact")
        await record_event(viewer.id, other.id, "removed")


async def block(viewer: User, handle: str) -> None:
    """Block someone: no requests or proposals either way, and they no longer see you."""
    other = await visible_person(viewer.id, handle)
    if other.id == viewer.id:
        raise FieldError("handle", N_("You cannot block yourself."))
    async with database.write_transaction():
        await lock_pair(viewer.id, other.id)
        already = await Block.exists().where(
            (Block.blocker == viewer.id) & (Block.blocked == other.id)
        )
        if not already:
            await record_event(viewer.id, other.id, "blocked")


async def unblock(viewer: User, handle: str) -> None:
    """Lift your block; the connection does not come back by itself."""
    other = await visible_person(viewer.id, handle)
    async with database.write_transaction():
        await lock_pair(viewer.id, other.id)
        blocked = await Block.exists().where(
            (Block.blocker == viewer.id) & (Block.blocked == other.id)
        )
        if not blocked:
            raise NotFound(N_("You have not blocked this person."), code="not_blocked")
        await record_event(viewer.id, other.id, "unblocked")


async def _timeline_rows(one: int, other: int) -> list[dict[str, Any]]:
    low, high = domain.pair_of(one, other)
    rows: list[dict[str, Any]] = await (
        ContactEvent.select(
            ContactEvent.actor,
            ContactEvent.actor.handle.as_alias("actor_handle"),
            ContactEvent.kind,
            ContactEvent.reason,
            ContactEvent.message,
            ContactEvent.meetup.slug.as_alias("meetup_slug"),
            ContactEvent.met_on,
            ContactEvent.created_at,
            ContactEvent.request.declined_rule.as_alias("declined_rule"),
        )
        .where((ContactEvent.low == low) & (ContactEvent.high == high))
        .order_by(ContactEvent.id)
    )
    return rows


# --- a person's page, as the viewer relates to them -------------------------------------------


@dataclass
class Relationship:
    """What `/u/{handle}` shows the signed-in viewer about their tie to that person."""

    detail: ContactDetail | None
    incoming: RequestView | None
    outgoing: RequestView | None

    @property
    def connected(self) -> bool:
        return self.detail is not None and self.detail.trust != "none"


async def relationship(viewer: User, other: User) -> Relationship:
    """The contact with its timeline (if any) and the latest request each way."""
    try:
        detail: ContactDetail | None = await contact_detail(viewer, other.handle)
    except NotFound:
        detail = None
    latest = {}
    for sender, recipient in ((other.id, viewer.id), (viewer.id, other.id)):
        where = (ContactRequest.sender == sender) & (ContactRequest.recipient == recipient)
        if sender == other.id:
            where = where & (ContactRequest.status == "pending")
        row = (
            await ContactRequest.select(ContactRequest.id)
            .where(where)
            .order_by(ContactRequest.id, ascending=False)
            .first()
        )
        latest[sender] = row["id"] if row else None
    ids = [request_id for request_id in latest.values() if request_id is not None]
    views = {view.id: view for view in await _request_views(viewer, ids)}
    incoming, outgoing = latest[other.id], latest[viewer.id]
    return Relationship(
        detail=detail,
        incoming=views.get(incoming) if incoming else None,
        outgoing=views.get(outgoing) if outgoing else None,
    )
