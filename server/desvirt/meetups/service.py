"""Meetup use cases: create, read as a given viewer, edit, cancel, RSVP, approve, check in.

Every change that decides about seats runs in one `database.write_transaction()` with the
meetup row locked (PostgreSQL) or the database write-locked (SQLite), reads the RSVPs
there, lets `domain.answer`/`domain.promote` decide, and writes only what changed. That is
what makes overbooking impossible however many people answer at once. Notifications are
queued inside the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.contacts import service as contacts
from desvirt.contacts.domain import trust_at_least
from desvirt.errors import Conflict, Forbidden, NotFound
from desvirt.i18n import N_
from desvirt.meetups import domain
from desvirt.meetups.domain import MeetupFields, Seat
from desvirt.meetups.tables import Invitation, Meetup, Rsvp
from desvirt.met import service as met
from desvirt.notifications import service as notifications

UPCOMING_LIMIT = 50
ATTENDING = ("going", "waitlisted", "maybe", "pending_approval")
ANSWER_CHANGE_FIELDS = ("status", "guests", "waitlist_position", "response", "visible")


@dataclass
class Attendee:
    """One RSVP as a list shows it."""

    user_id: int
    handle: str
    display_name: str
    status: str
    guests: int
    waitlist_position: int | None
    visible: bool
    checked_in_at: datetime | None
    response: str
    trust: str | None = None  # the viewer's trust in this person, when they are contacts


@dataclass
class MeetupPage:
    """A meetup with what a viewer may see of it, read in a constant number of queries."""

    meetup: Meetup
    host: User
    viewer: User | None
    attendees: list[Attendee] = field(default_factory=list)
    mine: Attendee | None = None

    @property
    def is_host(self) -> bool:
        return self.viewer is not None and self.viewer.id == self.host.id

    @property
    def going(self) -> list[Attendee]:
        return [a for a in self.attendees if a.status == "going"]

    @property
    def waitlist(self) -> list[Attendee]:
        waiting = [a for a in self.attendees if a.status == "waitlisted"]
        return sorted(waiting, key=lambda a: a.waitlist_position or 0)

    @property
    def maybe(self) -> list[Attendee]:
        return [a for a in self.attendees if a.status == "maybe"]

    @property
    def pending(self) -> list[Attendee]:
        return [a for a in self.attendees if a.status == "pending_approval"]

    def listed(self) -> list[Attendee]:
        """The people this viewer may see: everyone for the host; for other attendees,
        those who chose to be visible (and themselves); for anyone else, nobody."""
        if self.is_host:
            return [a for a in self.attendees if a.status != "declined"]
        if self.mine is None or self.mine.status not in ATTENDING:
            return []
        return [
            a
            for a in self.attendees
            if a.status in ("going", "maybe") and (a.visible or a.user_id == self.mine.user_id)
        ]

    @property
    def seats_left(self) -> int | None:
        capacity = self.meetup.capacity
        return None if capacity is None else max(0, capacity - self.meetup.seats_taken)


@dataclass
class RsvpResult:
    status: str
    guests: int
    waitlist_position: int | None


def now() -> datetime:
    return datetime.now(UTC)


async def create_meetup(
    host: User, fields: MeetupFields, *, kind: str = "meetup", status: str = "scheduled"
) -> Meetup:
    """A new meetup, in its own write transaction."""
    async with database.write_transaction():
        return await insert_meetup(host.id, fields, kind=kind, status=status)


async def insert_meetup(
    host_id: int, fields: MeetupFields, *, kind: str = "meetup", status: str = "scheduled"
) -> Meetup:
    """Insert the Meetup row inside the caller's transaction (proposals reuse this)."""
    slug = domain.new_slug(fields.title)
    while await Meetup.exists().where(Meetup.slug == slug):
        slug = domain.new_slug(fields.title)
    now = datetime.now(UTC)
    meetup = Meetup(
        slug=slug,
        host=host_id,
        kind=kind,
        status=status,
        title=fields.title,
        description=fields.description,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        timezone=fields.timezone,
        venue_name=fields.venue_name,
        venue_address=fields.venue_address,
        latitude=fields.latitude,
        longitude=fields.longitude,
        online_url=fields.online_url,
        capacity=fields.capacity,
        visibility=fields.visibility,
        contacts_min_trust=fields.contacts_min_trust,
        requires_approval=fields.requires_approval,
        seats_taken=0,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    await meetup.save()
    return meetup


def draft_of(meetup: Meetup, **changes: Any) -> domain.MeetupDraft:
    """A meetup's current fields as a draft, with some replaced (the base of an edit)."""
    values: dict[str, Any] = {
        "title": meetup.title,
        "description": meetup.description,
        "starts_at": meetup.starts_at.isoformat() if meetup.starts_at else "",
        "ends_at": meetup.ends_at.isoformat() if meetup.ends_at else "",
        "timezone": meetup.timezone,
        "venue_name": meetup.venue_name,
        "venue_address": meetup.venue_address,
        "latitude": meetup.latitude,
        "longitude": meetup.longitude,
        "online_url": meetup.online_url,
        "capacity": meetup.capacity,
        "visibility": meetup.visibility,
        "contacts_min_trust": meetup.contacts_min_trust,
        "requires_approval": meetup.requires_approval,
    }
    values.update(changes)
    return domain.MeetupDraft(**values)


async def visible_meetup(slug: str, viewer: User | None) -> tuple[Meetup, User]:
    """The meetup and its host if this viewer may see it; otherwise NotFound, whatever the
    reason (private, blocked, or no such meetup), so nothing leaks."""
    meetup, host, _ = await _visible_meetup_and_blocks(slug, viewer)
    return meetup, host


async def _visible_meetup_and_blocks(
    slug: str, viewer: User | None
) -> tuple[Meetup, User, set[int]]:
    """`visible_meetup`, with the people the viewer blocked or was blocked by (none for the
    host), which the attendee list hides too."""
    meetup, host = await _meetup_with_host(slug)
    if viewer is not None and viewer.id == host.id:
        return meetup, host, set()
    hidden = await contacts.blocked_either_way(viewer.id) if viewer is not None else set()
    if host.id in hidden:
        raise NotFound(N_("No such meetup."))
    if meetup.kind == "proposal" and meetup.status == "proposed":
        # Until the host fixes a time, a proposal is between the host and the invitees.
        if viewer is None or not await Invitation.exists().where(
            (Invitation.meetup == meetup.id) & (Invitation.user == viewer.id)
        ):
            raise NotFound(N_("No such meetup."))
        return meetup, host, hidden
    if meetup.visibility == "contacts" and (
        viewer is None or not await _may_see_contacts_only(meetup, host.id, viewer.id)
    ):
        raise NotFound(N_("No such meetup."))
    return meetup, host, hidden


# Every page view reads the meetup and its host; Piccolo takes milliseconds to build a
# joined `objects()` query, so this hot read is written out once, in SQL both databases run.
_MEETUP_COLUMNS = database.column_names(Meetup)
_HOST_COLUMNS = ("id", "handle", "display_name", "locale", "timezone")
_MEETUP_WITH_HOST = (
    "SELECT "
    + ", ".join(f'm."{name}"' for name in _MEETUP_COLUMNS)
    + ", "
    + ", ".join(f'h."{name}" AS "host__{name}"' for name in _HOST_COLUMNS)
    + ' FROM meetup m JOIN desvirt_user h ON h.id = m.host WHERE m.slug = {}'
)


async def _meetup_with_host(slug: str) -> tuple[Meetup, User]:
    rows = await database.fetch(_MEETUP_WITH_HOST, slug)
    if not rows:
        raise NotFound(N_("No such meetup."))
    row = rows[0]
    host = database.loaded(User, {name: row[f"host__{name}"] for name in _HOST_COLUMNS})
    meetup = database.loaded(Meetup, {name: row[name] for name in _MEETUP_COLUMNS})
    meetup.host = host
    return meetup, host


async def meetup_page(slug: str, viewer: User | None) -> MeetupPage:
    """Everything `/m/{slug}` and the API show; a constant number of queries."""
    meetup, host, hidden = await _visible_meetup_and_blocks(slug, viewer)
    page = MeetupPage(meetup=meetup, host=host, viewer=viewer)
    mine_id = viewer.id if viewer is not None else None
    rows = await database.fetch(_ATTENDEES, mine_id or 0, meetup.id)
    for row in rows:
        attendee = Attendee(
            user_id=row["user_id"],
            handle=row["handle"],
            display_name=row["display_name"],
            status=row["status"],
            guests=row["guests"],
            waitlist_position=row["waitlist_position"],
            visible=bool(row["visible"]),
            checked_in_at=row["checked_in_at"],
            response=row["response"],
            trust=row["trust"],
        )
        if attendee.user_id == mine_id:
            page.mine = attendee
        if attendee.user_id not in hidden:
            page.attendees.append(attendee)
    return page


# By hand rather than through Piccolo: a list of hundreds is read on every page view. The
# viewer's contact rows come along (one index probe each), so trust costs no extra query.
_ATTENDEES = """
SELECT r."user" AS user_id, u.handle AS handle, u.display_name AS display_name,
       r.status AS status, r.guests AS guests, r.waitlist_position AS waitlist_position,
       r.visible AS visible, r.checked_in_at AS checked_in_at, r.response AS response,
       c.trust AS trust
FROM rsvp r JOIN desvirt_user u ON u.id = r."user"
LEFT JOIN contact c ON c.owner = {} AND c.other = r."user"
WHERE r.meetup = {}
ORDER BY r.created_at, r.id
"""


async def upcoming_public(limit: int = UPCOMING_LIMIT) -> list[dict[str, Any]]:
    """Upcoming public meetups for the home page: one bounded, indexed query."""
    now = datetime.now(UTC)
    return await (
        Meetup.select(
            Meetup.slug,
            Meetup.title,
            Meetup.starts_at,
            Meetup.ends_at,
            Meetup.timezone,
            Meetup.venue_name,
            Meetup.online_url,
            Meetup.capacity,
            Meetup.seats_taken,
            Meetup.host.display_name,
        )
        .where(
            (Meetup.visibility == "public")
            & (Meetup.status == "scheduled")
            & (Meetup.starts_at >= now)
        )
        .order_by(Meetup.starts_at)
        .limit(limit)
    )


async def rsvp(
    slug: str,
    viewer: User,
    response: str,
    guests: int | str | None = None,
    visible: bool | None = None,
) -> RsvpResult:
    """Answer a meetup; a yes takes a seat or a waitlist place in one locked transaction."""
    domain.check_response(response)
    party_guests = domain.parse_guests(guests)
    meetup, host = await visible_meetup(slug, viewer)
    async with database.write_transaction():
        locked = await _locked(meetup.id)
        _refuse_answers_to(locked)
        seats, rows = await _seats(locked.id)
        try:
            after = domain.answer(
                seats,
                capacity=locked.capacity,
                requires_approval=locked.requires_approval,
                user_id=viewer.id,
                response=response,
                guests=party_guests,
                approved=viewer.id == host.id,
            )
        except domain.NoSeats as full:
            raise Conflict(
                N_("Not enough seats for that many guests. Seats still free: %(count)s."),
                code="no_seats",
                field="guests",
                count=full.seats_left,
            ) from full
        await _store(locked, rows, after, answered_by=viewer.id, response=response, visible=visible)
    mine = next(seat for seat in after if seat.user_id == viewer.id)
    return RsvpResult(mine.status, mine.guests, mine.waitlist_position)


async def decide(slug: str, viewer: User, handle: str, *, approve: bool) -> RsvpResult:
    """The host approves (a seat or the waitlist) or declines a pending RSVP."""
    meetup, host = await visible_meetup(slug, viewer)
    _only_host(host, viewer)
    person = await _person(handle)
    async with database.write_transaction():
        locked = await _locked(meetup.id)
        seats, rows = await _seats(locked.id)
        current = next((seat for seat in seats if seat.user_id == person.id), None)
        if current is None or current.status != "pending_approval":
            raise Conflict(N_("This person is not waiting for approval."), code="not_pending")
        if approve:
            _refuse_answers_to(locked)
            after = domain.answer(
                seats,
                capacity=locked.capacity,
                requires_approval=True,
                user_id=person.id,
                response="yes",
                guests=current.guests,
                approved=True,
            )
        else:
            after = domain.decline_request(seats, person.id)
        await _store(locked, rows, after, answered_by=None)
    mine = next(seat for seat in after if seat.user_id == person.id)
    return RsvpResult(mine.status, mine.guests, mine.waitlist_position)


async def set_visible(slug: str, viewer: User, visible: bool) -> None:
    """An attendee shows or hides themselves in attendee lists."""
    meetup, _ = await visible_meetup(slug, viewer)
    updated = await (
        Rsvp.update({Rsvp.visible: visible, Rsvp.updated_at: datetime.now(UTC)})
        .where((Rsvp.meetup == meetup.id) & (Rsvp.user == viewer.id))
        .returning(Rsvp.id)
    )
    if not updated:
        raise Conflict(N_("Answer the meetup first."), code="no_rsvp")


async def update_meetup(slug: str, viewer: User, changes: dict[str, Any]) -> Meetup:
    """The host edits; the whole meetup is re-checked, SEQUENCE bumped, the waitlist moved up
    when capacity grows. Capacity below the seats taken is refused; nothing changes."""
    meetup, host = await visible_meetup(slug, viewer)
    _only_host(host, viewer)
    async with database.write_transaction():
        locked = await _locked(meetup.id)
        if locked.status == "cancelled":
            raise Conflict(N_("This meetup was cancelled; it cannot be edited."), code="cancelled")
        fields = domain.check_meetup(draft_of(locked, **changes))
        domain.check_capacity_change(fields.capacity, locked.seats_taken)
        now = datetime.now(UTC)
        values = {
            getattr(Meetup, name): getattr(fields, name) for name in _EDITABLE if name in changes
        }
        values[Meetup.sequence] = locked.sequence + 1
        values[Meetup.updated_at] = now
        await Meetup.update(values).where(Meetup.id == locked.id)
        for column, value in values.items():
            setattr(locked, column._meta.name, value)
        seats, rows = await _seats(locked.id)
        await _store(locked, rows, domain.promote(seats, locked.capacity), answered_by=None)
        await notifications.meetup_updated(locked.id)
    return locked


async def cancel_meetup(slug: str, viewer: User) -> Meetup:
    """The host cancels; feeds show it CANCELLED, people who answered are told."""
    meetup, host = await visible_meetup(slug, viewer)
    _only_host(host, viewer)
    async with database.write_transaction():
        locked = await _locked(meetup.id)
        if locked.status == "cancelled":
            return locked
        now = datetime.now(UTC)
        await Meetup.update(
            {
                Meetup.status: "cancelled",
                Meetup.cancelled_at: now,
                Meetup.updated_at: now,
                Meetup.sequence: locked.sequence + 1,
            }
        ).where(Meetup.id == locked.id)
        locked.status, locked.cancelled_at, locked.updated_at = "cancelled", now, now
        locked.sequence += 1
        await notifications.meetup_cancelled(locked.id)
    return locked


async def check_in(slug: str, viewer: User, handle: str) -> datetime:
    """The host checks a going attendee in at the door (evidence for met-in-person).

    Decided under the same lock as RSVPs, so a check-in cannot land on someone whose "no"
    was stored in between; a later "no" keeps the check-in as the record that they came.
    """
    meetup, host = await visible_meetup(slug, viewer)
    _only_host(host, viewer)
    person = await _person(handle)
    async with database.write_transaction():
        locked = await _locked(meetup.id)
        row = await (
            Rsvp.select(Rsvp.id, Rsvp.status, Rsvp.checked_in_at)
            .where((Rsvp.meetup == locked.id) & (Rsvp.user == person.id))
            .first()
        )
        if row is None or row["status"] != "going":
            raise Conflict(N_("Only people going can be checked in."), code="not_going")
        if row["checked_in_at"] is not None:
            checked: datetime = row["checked_in_at"]
            return checked
        now = datetime.now(UTC)
        await Rsvp.update({Rsvp.checked_in_at: now, Rsvp.updated_at: now}).where(
            Rsvp.id == row["id"]
        )
        await met.checked_in(locked.id, person.id)
    return now


# --- inside the write transaction ------------------------------------------------------

# Every field a host types is a column of the same name.
_EDITABLE = tuple(draft_field.name for draft_field in dataclass_fields(domain.MeetupDraft))


async def _locked(meetup_id: int) -> Meetup:
    """The meetup row, locked until the transaction ends (SQLite: the write lock is held)."""
    query = Meetup.objects().where(Meetup.id == meetup_id)
    if not database.is_sqlite():
        query = query.lock_rows()
    meetup = await query.first()
    if meetup is None:
        raise NotFound(N_("No such meetup."))
    return meetup


def _refuse_answers_to(meetup: Meetup) -> None:
    if meetup.status == "cancelled":
        raise Conflict(N_("This meetup was cancelled."), code="cancelled")
    if meetup.status != "scheduled" or meetup.starts_at is None or meetup.ends_at is None:
        raise Conflict(N_("This meetup has no fixed time yet."), code="not_scheduled")
    if meetup.ends_at <= datetime.now(UTC):
        raise Conflict(N_("This meetup is over."), code="past")


async def _seats(meetup_id: int) -> tuple[list[Seat], dict[int, dict[str, Any]]]:
    rows = await (
        Rsvp.select(
            Rsvp.id,
            Rsvp.user,
            Rsvp.status,
            Rsvp.guests,
            Rsvp.waitlist_position,
            Rsvp.response,
            Rsvp.visible,
        )
        .where(Rsvp.meetup == meetup_id)
        .order_by(Rsvp.id)
    )
    seats = [
        Seat(row["user"], row["status"], row["guests"], row["waitlist_position"]) for row in rows
    ]
    return seats, {row["user"]: row for row in rows}


async def _store(
    meetup: Meetup,
    rows: dict[int, dict[str, Any]],
    after: list[Seat],
    *,
    answered_by: int | None,
    response: str | None = None,
    visible: bool | None = None,
) -> None:
    """Write the RSVPs that changed and the seat count; tell notifications about each."""
    now = datetime.now(UTC)
    for seat in after:
        before = rows.get(seat.user_id)
        wanted: dict[str, Any] = {
            "status": seat.status,
            "guests": seat.guests,
            "waitlist_position": seat.waitlist_position,
        }
        if seat.user_id == answered_by:
            wanted["response"] = response
            if visible is not None:
                wanted["visible"] = visible
        if before is None:
            await Rsvp.insert(
                Rsvp(
                    meetup=meetup.id,
                    user=seat.user_id,
                    response=wanted.get("response") or "yes",
                    status=seat.status,
                    guests=seat.guests,
                    waitlist_position=seat.waitlist_position,
                    visible=True if visible is None else visible,
                    created_at=now,
                    updated_at=now,
                )
            )
            await notifications.rsvp_changed(meetup.id, seat.user_id, None)
            continue
        changed = {k: v for k, v in wanted.items() if before.get(k) != v}
        if not changed:
            continue
        changed["updated_at"] = now
        await Rsvp.update({getattr(Rsvp, k): v for k, v in changed.items()}).where(
            Rsvp.id == before["id"]
        )
        if "status" in changed:
            await notifications.rsvp_changed(meetup.id, seat.user_id, before["status"])
    taken = domain.seats_taken(after)
    if taken != meetup.seats_taken:
        await Meetup.update({Meetup.seats_taken: taken}).where(Meetup.id == meetup.id)
        meetup.seats_taken = taken


async def _may_see_contacts_only(meetup: Meetup, host_id: int, viewer_id: int) -> bool:
    if trust_at_least(await contacts.trust_level(host_id, viewer_id), meetup.contacts_min_trust):
        return True
    return bool(
        await Invitation.exists().where(
            (Invitation.meetup == meetup.id) & (Invitation.user == viewer_id)
        )
    )


def _only_host(host: User, viewer: User) -> None:
    if host.id != viewer.id:
        raise Forbidden(N_("Only the host can do that."), code="not_host")


async def _person(handle: str) -> User:
    person = await User.objects().where(User.handle == handle.strip().lstrip("@").lower()).first()
    if person is None:
        raise NotFound(N_("No such person."))
    return person
