"""Meeting in person: met claims, the "who did you meet?" checklist, and handshake codes.

Everything written here goes into the pair's append-only history through
`contacts.service.record_event`, inside one write transaction per use case, so the trust
both people see is always what their history says. Met records are only ever read from
the viewer's own pairs: nothing here can show one person what two others did.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.custom_types import Combinable

from desvirt import database
from desvirt.accounts import domain as accounts_domain
from desvirt.accounts.domain import FieldError
from desvirt.accounts.service import charter_of
from desvirt.accounts.tables import Attempt, User
from desvirt.contacts import service as contacts
from desvirt.contacts.domain import MetClaim, PairEvent, charter_breach
from desvirt.contacts.tables import Contact, ContactEvent, ContactRequest
from desvirt.errors import Conflict, DesvirtError, NotFound, RateLimited, refusal_text
from desvirt.i18n import N_
from desvirt.meetups.tables import Meetup, Rsvp
from desvirt.met import domain
from desvirt.met.domain import Attendance
from desvirt.met.tables import Handshake
from desvirt.notifications import service as notifications
from desvirt.settings import Settings

MET_REQUEST_REASON = "met_in_person"


@dataclass(frozen=True)
class RequestOutcome:
    """What became of the contact request a met claim at a shared meetup makes.

    `status` is "sent", "accepted" (their request to me), "auto_declined" (their charter
    declines it; `declined_rule` names the rule) or "not_sent" (a limit or the cooldown;
    `declined_rule` is the refusal's code); None when there was nothing to do. The claim
    itself is recorded whatever becomes of the request.
    """

    status: str | None = None
    declined_rule: str | None = None
    explanation: str | None = None


@dataclass(frozen=True)
class ClaimOutcome:
    """What a met claim did: the pair's trust now, and what became of the contact."""

    handle: str
    trust: str
    request: RequestOutcome = RequestOutcome()


@dataclass(frozen=True)
class MetStatus:
    """The viewer's view of one pair: trust and both sides' standing claims."""

    handle: str
    display_name: str
    trust: str
    my_claim: MetClaim | None
    their_claim: MetClaim | None


@dataclass(frozen=True)
class ChecklistPerson:
    handle: str
    display_name: str
    checked_in: bool
    is_host: bool
    trust: str
    i_claimed: bool
    they_claimed: bool


@dataclass(frozen=True)
class Checklist:
    meetup: Meetup
    has_begun: bool
    people: list[ChecklistPerson]


@dataclass(frozen=True)
class IssuedHandshake:
    code: str
    redeem_url: str
    expires_at: datetime


@dataclass(frozen=True)
class MetPrompt:
    """Someone says they met the viewer and waits for a confirmation."""

    handle: str
    display_name: str
    meetup_title: str | None
    meetup_slug: str | None
    met_on: date | None


# --- met claims ---------------------------------------------------------------------------


async def claim_met(
    settings: Settings,
    claimer: User,
    handle: str,
    *,
    meetup_slug: str | None = None,
    met_on: date | None = None,
) -> ClaimOutcome:
    """Say I met this person (optionally at a meetup, on a day); confirms their claim too."""
    other = await person(claimer, handle)
    now = datetime.now(UTC)
    domain.check_met_on(met_on, now.astimezone(ZoneInfo(claimer.timezone)).date())
    async with database.write_transaction():
        meetup = None
        if meetup_slug:
            meetup = await _shared_meetup(meetup_slug, claimer, other, now)
            met_on = _day_of_meetup(meetup, met_on)
        return await _claim(settings, claimer, other, meetup, met_on, now)


async def retract_met(claimer: User, handle: str) -> str:
    """Take back my met claim; trust is recomputed from the rest of the history."""
    other = await person(claimer, handle)
    async with database.write_transaction():
        await contacts.lock_pair(claimer.id, other.id)
        events = await _events(claimer.id, other.id)
        if claimer.id not in domain.live_claims(events):
            raise Conflict(
                N_("You have not said you met this person, so there is nothing to take back."),
                code="no_met_claim",
            )
        view = await contacts.record_event(claimer.id, other.id, "met_retracted")
        return view.trust


async def met_status(viewer: User, handle: str) -> MetStatus:
    """The viewer's met records with one person; a 404 when the two share no history."""
    other = await person(viewer, handle)
    events = await _events(viewer.id, other.id)
    claims = domain.live_claims(events)
    if not events:
        raise NotFound(N_("No such person."))
    trust = (await contacts.trust_levels(viewer.id, [other.id]))[other.id]
    return MetStatus(
        handle=other.handle,
        display_name=other.display_name,
        trust=trust,
        my_claim=claims.get(viewer.id),
        their_claim=claims.get(other.id),
    )


async def met_between(viewer: User, other: User) -> MetStatus | None:
    """The viewer's met records with someone, for their profile page; None without history."""
    events = await _events(viewer.id, other.id)
    if not events:
        return None
    claims = domain.live_claims(events)
    trust = (await contacts.trust_levels(viewer.id, [other.id]))[other.id]
    return MetStatus(
        handle=other.handle,
        display_name=other.display_name,
        trust=trust,
        my_claim=claims.get(viewer.id),
        their_claim=claims.get(other.id),
    )


async def met_prompts(viewer: User) -> list[MetPrompt]:
    """People whose standing met claim about the viewer waits for the viewer's confirmation."""
    histories = await _histories(
        viewer.id,
        ((ContactEvent.low == viewer.id) | (ContactEvent.high == viewer.id))
        & ContactEvent.kind.is_in(["met_claimed", "met_retracted", "removed", "blocked"]),
    )
    waiting = {
        other: claims[other]
        for other, events in histories.items()
        if other in (claims := domain.live_claims(events)) and viewer.id not in claims
    }
    blocked = await contacts.blocked_either_way(viewer.id)
    waiting = {other: claim for other, claim in waiting.items() if other not in blocked}
    if not waiting:
        return []
    people = {
        row["id"]: row
        for row in await User.select(User.id, User.handle, User.display_name).where(
            User.id.is_in(list(waiting))
        )
    }
    meetup_ids = [c.meetup_id for c in waiting.values() if c.meetup_id is not None]
    meetups = {
        row["id"]: row
        for row in (
            await Meetup.select(Meetup.id, Meetup.slug, Meetup.title).where(
                Meetup.id.is_in(meetup_ids)
            )
            if meetup_ids
            else []
        )
    }
    prompts = []
    for other, claim in waiting.items():
        meetup = meetups.get(claim.meetup_id) if claim.meetup_id is not None else None
        prompts.append(
            MetPrompt(
                handle=people[other]["handle"],
                display_name=people[other]["display_name"],
                meetup_title=meetup["title"] if meetup else None,
                meetup_slug=meetup["slug"] if meetup else None,
                met_on=claim.met_on,
            )
        )
    return sorted(prompts, key=lambda prompt: prompt.display_name.casefold())


async def confirm_met(
    settings: Settings, viewer: User, handle: str, met_on: date | None = None
) -> ClaimOutcome:
    """Confirm the other side's standing claim (the same meeting they named), or, when they
    made none, say I met them (on `met_on` if given)."""
    other = await person(viewer, handle)
    claim = domain.live_claims(await _events(viewer.id, other.id)).get(other.id)
    if claim is None:
        return await claim_met(settings, viewer, handle, met_on=met_on)
    slug = None
    if claim is not None and claim.meetup_id is not None:
        slug = await Meetup.select(Meetup.slug).where(Meetup.id == claim.meetup_id).first()
    return await claim_met(
        settings,
        viewer,
        handle,
        meetup_slug=slug["slug"] if slug else None,
        met_on=claim.met_on,
    )


# --- the "who did you meet?" checklist -----------------------------------------------------


async def checklist(viewer: User, slug: str) -> Checklist:
    """The other people at a meetup the viewer was at, checked-in first, with claims."""
    meetup, attendance = await _meetup_people(viewer, slug)
    now = datetime.now(UTC)
    has_begun = meetup.starts_at is not None and meetup.starts_at <= now
    others = [(a, name) for a, name in attendance.values() if a.user_id != viewer.id]
    ordered = domain.checklist_order(
        (a, f"{names['display_name']}\x00{names['handle']}") for a, names in others
    )
    ids = [a.user_id for a, _ in ordered]
    trust = await contacts.trust_levels(viewer.id, ids)
    histories = await _histories_with(viewer.id, ids)
    people = []
    for a, _ in ordered:
        names = attendance[a.user_id][1]
        claims = domain.live_claims(histories.get(a.user_id, []))
        mine, theirs = claims.get(viewer.id), claims.get(a.user_id)
        people.append(
            ChecklistPerson(
                handle=names["handle"],
                display_name=names["display_name"],
                checked_in=a.checked_in,
                is_host=a.is_host,
                trust=trust[a.user_id],
                i_claimed=mine is not None and mine.meetup_id == meetup.id,
                they_claimed=theirs is not None and theirs.meetup_id == meetup.id,
            )
        )
    return Checklist(meetup=meetup, has_begun=has_begun, people=people)


async def record_checklist(
    settings: Settings, viewer: User, slug: str, handles: Collection[str]
) -> list[ClaimOutcome]:
    """Tick who I met at this meetup, all in one go; unticking takes back a claim made here.

    People who are not yet contacts get a contact request with the reason
    `met_in_person` (or, when they already asked me, their request is accepted).
    """
    meetup, attendance = await _meetup_people(viewer, slug)
    now = datetime.now(UTC)
    me = attendance[viewer.id][0]
    domain.check_meetup_claim(
        starts_at=meetup.starts_at, status=meetup.status, now=now, claimer=me, other=me
    )
    by_handle = {
        names["handle"]: (a, names) for a, names in attendance.values() if a.user_id != viewer.id
    }
    wanted = {handle.strip().lower() for handle in handles if handle.strip()}
    unknown = sorted(wanted - set(by_handle))
    if unknown:
        raise FieldError(
            "handles",
            N_("These people were not at this meetup: %(handles)s."),
            handles=", ".join(unknown),
        )
    met_on = _day_of_meetup(meetup, None)
    outcomes = []
    async with database.write_transaction():
        histories = await _histories_with(viewer.id, [a.user_id for a, _ in by_handle.values()])
        for handle, (a, names) in sorted(by_handle.items()):
            other = User(id=a.user_id, handle=handle, display_name=names["display_name"])
            mine = domain.live_claims(histories.get(a.user_id, [])).get(viewer.id)
            here = mine is not None and mine.meetup_id == meetup.id
            if handle in wanted:
                outcomes.append(await _claim(settings, viewer, other, meetup, met_on, now))
            elif here:
                view = await contacts.record_event(viewer.id, a.user_id, "met_retracted")
                outcomes.append(ClaimOutcome(handle=handle, trust=view.trust))
    return outcomes


async def checked_in(meetup_id: int, user_id: int) -> None:
    """The host checked someone in: record it as evidence with everyone else checked in there.

    Only pairs it matters to get the event: contacts (it counts as a meeting) and people
    with a met claim naming this meetup (it makes that claim `verified`). Meetups call this
    right after a check-in.
    """
    rows = await Rsvp.select(Rsvp.user).where(
        (Rsvp.meetup == meetup_id) & (Rsvp.checked_in_at.is_not_null()) & (Rsvp.user != user_id)
    )
    others = [int(row["user"]) for row in rows]
    if not others:
        return
    contacts_there = {
        int(row["other"])
        for row in await Contact.select(Contact.other).where(
            (Contact.owner == user_id) & (Contact.other.is_in(others))
        )
    }
    histories = await _histories_with(user_id, others)
    for other in others:
        events = histories.get(other, [])
        if any(e.kind == "checked_in_together" and e.meetup_id == meetup_id for e in events):
            continue
        claims = domain.live_claims(events)
        if other in contacts_there or any(c.meetup_id == meetup_id for c in claims.values()):
            await contacts.record_event(user_id, other, "checked_in_together", meetup_id=meetup_id)


# --- handshakes -----------------------------------------------------------------------------


async def issue_handshake(
    settings: Settings, issuer: User, *, reuse: bool = False
) -> IssuedHandshake:
    """A code for the issuer to show; a new one replaces any code of theirs still unused.

    With `reuse` (a page view), their unused code is shown again while it has a couple of
    minutes left, so reloading the page does not kill the code someone is typing.
    """
    now = datetime.now(UTC)
    if reuse:
        live = (
            await Handshake.objects()
            .where(
                (Handshake.issuer == issuer.id)
                & (Handshake.redeemed_by.is_null())
                & (Handshake.expires_at > now + domain.HANDSHAKE_SHOWN_AGAIN_WITH)
            )
            .order_by(Handshake.created_at, ascending=False)
            .first()
        )
        if live is not None:
            code = domain.code_for(settings.secret_key, issuer.id, live.created_at)
            if domain.code_digest(settings.secret_key, code) == live.code_hash:
                return _issued(settings, code, live.expires_at)
    async with database.write_transaction():
        await Handshake.delete().where(
            (Handshake.issuer == issuer.id) & (Handshake.redeemed_by.is_null())
        )
        await Handshake.delete().where(Handshake.expires_at < now - timedelta(days=1))
        issued_at = now
        while True:
            code = domain.code_for(settings.secret_key, issuer.id, issued_at)
            digest = domain.code_digest(settings.secret_key, code)
            if not await Handshake.exists().where(Handshake.code_hash == digest):
                break
            issued_at += timedelta(microseconds=1)  # another live code has it: derive again
        expires_at = issued_at + domain.HANDSHAKE_LIFETIME
        await Handshake.insert(
            Handshake(
                issuer=issuer.id, code_hash=digest, created_at=issued_at, expires_at=expires_at
            )
        )
    return _issued(settings, code, expires_at)


def _issued(settings: Settings, code: str, expires_at: datetime) -> IssuedHandshake:
    return IssuedHandshake(
        code=code, redeem_url=f"{settings.base_url}/handshake/{code}", expires_at=expires_at
    )


async def handshake_issuer(settings: Settings, redeemer: User, raw_code: str, client: str) -> User:
    """Who showed this code, so the redeemer can confirm it is the person in front of them.

    Looking a code up counts against the guessing limit like redeeming it does.
    """
    handshake = await _live_handshake(settings, redeemer, raw_code, client)
    issuer = await User.objects().where(User.id == handshake.issuer).first()
    if issuer is None:
        raise NotFound(N_("This handshake code is not valid."), code="handshake_unknown")
    return issuer


async def redeem_handshake(
    settings: Settings, redeemer: User, raw_code: str, client: str
) -> tuple[User, str]:
    """Redeem the other person's code: the two are connected and verified at once."""
    handshake = await _live_handshake(settings, redeemer, raw_code, client)
    now = datetime.now(UTC)
    async with database.write_transaction():
        used = await (
            Handshake.update({Handshake.redeemed_by: redeemer.id, Handshake.redeemed_at: now})
            .where(
                (Handshake.id == handshake.id)
                & (Handshake.redeemed_by.is_null())
                & (Handshake.expires_at > now)
            )
            .returning(Handshake.id)
        )
        if not used:
            raise Conflict(N_("This handshake code was already used."), code="handshake_used")
        issuer_id = int(handshake.issuer)
        await _settle_requests(issuer_id, redeemer.id, now)
        view = await contacts.record_event(
            redeemer.id, issuer_id, "handshake", reason=MET_REQUEST_REASON
        )
    issuer = await User.objects().where(User.id == issuer_id).first()
    assert issuer is not None
    return issuer, view.trust


# --- shared -----------------------------------------------------------------------------


async def person(viewer: User, handle: str) -> User:
    """The other person by handle; blocked people and oneself are refused."""
    other = await User.objects().where(User.handle == handle.strip().lower()).first()
    if other is None or other.id in await contacts.blocked_either_way(viewer.id):
        raise NotFound(N_("No such person."))
    if other.id == viewer.id:
        raise FieldError("handle", N_("Meeting yourself does not count."))
    return other


async def _claim(
    settings: Settings,
    claimer: User,
    other: User,
    meetup: Meetup | None,
    met_on: date | None,
    now: datetime,
) -> ClaimOutcome:
    """Record one claim inside the caller's write transaction."""
    await contacts.lock_pair(claimer.id, other.id)
    events = await _events(claimer.id, other.id)
    connected = domain.is_connected(events)
    if not connected and meetup is None:
        raise Conflict(
            N_(
                "You are not connected with this person. Name a meetup you were both at, "
                "or exchange a handshake code face to face."
            ),
            code="not_a_contact",
        )
    trust = (await contacts.trust_levels(claimer.id, [other.id]))[other.id]
    first_claim_of_pair = not any(event.kind == "met_claimed" for event in events)
    evidence_known = meetup is not None and any(
        e.kind == "checked_in_together" and e.meetup_id == meetup.id for e in events
    )
    if (
        meetup is not None
        and not evidence_known
        and await _both_checked_in(meetup.id, claimer.id, other.id)
    ):
        view = await contacts.record_event(
            claimer.id, other.id, "checked_in_together", meetup_id=meetup.id
        )
        trust = view.trust
    claim = MetClaim(meetup.id if meetup else None, met_on)
    if domain.live_claims(events).get(claimer.id) != claim:
        view = await contacts.record_event(
            claimer.id,
            other.id,
            "met_claimed",
            meetup_id=claim.meetup_id,
            met_on=claim.met_on,
        )
        trust = view.trust
    request = RequestOutcome()
    if not connected and meetup is not None:
        request, trust = await _connect_after_meetup(settings, claimer, other, meetup, now)
    if first_claim_of_pair and trust != "verified":
        await notifications.met_claimed(claimer.id, other.id)
    return ClaimOutcome(handle=other.handle, trust=trust, request=request)


async def _connect_after_meetup(
    settings: Settings, claimer: User, other: User, meetup: Meetup, now: datetime
) -> tuple[RequestOutcome, str]:
    """A met claim at a shared meetup doubles as a contact request (`met_in_person`).

    Their pending request to me is accepted instead; my own pending request is left alone.
    Otherwise the request obeys what an ordinary one does (`contacts.service`): the decline
    cooldown and my request limits, then their charter. A refused request is not stored
    and the outcome says why. The shared meetup the request names is its stated why, so a
    charter's "a message is required" (every charter's default) does not stop it: a met
    claim has no message to write.
    """
    theirs = await (
        ContactRequest.select(ContactRequest.id, ContactRequest.reason)
        .where(
            (ContactRequest.sender == other.id)
            & (ContactRequest.recipient == claimer.id)
            & (ContactRequest.status == "pending")
        )
        .first()
    )
    if theirs is not None:
        await ContactRequest.update(
            {ContactRequest.status: "accepted", ContactRequest.answered_at: now}
        ).where(ContactRequest.id == theirs["id"])
        view = await contacts.record_event(
            claimer.id, other.id, "accepted", reason=theirs["reason"], request_id=theirs["id"]
        )
        return RequestOutcome("accepted"), view.trust
    mine = await ContactRequest.exists().where(
        (ContactRequest.sender == claimer.id)
        & (ContactRequest.recipient == other.id)
        & (ContactRequest.status == "pending")
    )
    if mine:
        return RequestOutcome(), "none"
    recipient = await User.objects().where(User.id == other.id).first()
    if recipient is None:
        raise NotFound(N_("No such person."))
    try:
        await contacts.refuse_unwanted_request(settings, claimer, recipient, now)
    except DesvirtError as refusal:
        explanation = refusal_text(claimer.locale, refusal)
        return RequestOutcome("not_sent", refusal.code, explanation), "none"
    rule = charter_breach(charter_of(recipient), MET_REQUEST_REASON, "")
    if rule is not None and rule != "message_required":
        explanation = contacts.breach_explanation(
            claimer.locale, rule, recipient.display_name, MET_REQUEST_REASON
        )
        return RequestOutcome("auto_declined", rule, explanation), "none"
    request = ContactRequest(
        sender=claimer.id,
        recipient=other.id,
        reason=MET_REQUEST_REASON,
        message="",
        meetup=meetup.id,
        status="pending",
        created_at=now,
    )
    await request.save()
    view = await contacts.record_event(
        claimer.id,
        other.id,
        "requested",
        reason=MET_REQUEST_REASON,
        meetup_id=meetup.id,
        request_id=request.id,
    )
    return RequestOutcome("sent"), view.trust


async def _settle_requests(one: int, other: int, now: datetime) -> None:
    """Pending requests between two people who just verified each other are answered."""
    await ContactRequest.update(
        {ContactRequest.status: "accepted", ContactRequest.answered_at: now}
    ).where(
        (
            ((ContactRequest.sender == one) & (ContactRequest.recipient == other))
            | ((ContactRequest.sender == other) & (ContactRequest.recipient == one))
        )
        & (ContactRequest.status == "pending")
    )


async def _shared_meetup(slug: str, claimer: User, other: User, now: datetime) -> Meetup:
    """The named meetup, if it has begun and both people were there."""
    meetup = await Meetup.objects().where(Meetup.slug == slug.strip()).first()
    if meetup is None:
        raise NotFound(N_("No such meetup."), field="meetup_slug")
    rows = await Rsvp.select(Rsvp.user, Rsvp.status, Rsvp.checked_in_at).where(
        (Rsvp.meetup == meetup.id) & (Rsvp.user.is_in([claimer.id, other.id]))
    )
    attendance = {row["user"]: row for row in rows}
    claimer_part, other_part = (
        _attendance(meetup, user_id, attendance.get(user_id)) for user_id in (claimer.id, other.id)
    )
    if claimer.id not in attendance and not claimer_part.is_host:
        raise NotFound(N_("No such meetup."), field="meetup_slug")
    domain.check_meetup_claim(
        starts_at=meetup.starts_at,
        status=meetup.status,
        now=now,
        claimer=claimer_part,
        other=other_part,
    )
    return meetup


def _attendance(meetup: Meetup, user_id: int, row: dict[str, object] | None) -> Attendance:
    return Attendance(
        user_id=user_id,
        status=str(row["status"]) if row else None,
        checked_in=bool(row and row["checked_in_at"] is not None),
        is_host=int(meetup.host) == user_id,
    )


def _day_of_meetup(meetup: Meetup, met_on: date | None) -> date | None:
    """The claimed day, checked against the meetup's days; the meetup's first day if none."""
    if meetup.starts_at is None:
        return met_on
    zone = ZoneInfo(meetup.timezone or "UTC")
    first = meetup.starts_at.astimezone(zone).date()
    last = (meetup.ends_at or meetup.starts_at).astimezone(zone).date()
    domain.check_day_of_meetup(met_on, first, max(first, last))
    return met_on or first


async def _both_checked_in(meetup_id: int, one: int, other: int) -> bool:
    count = await Rsvp.count().where(
        (Rsvp.meetup == meetup_id)
        & (Rsvp.user.is_in([one, other]))
        & (Rsvp.checked_in_at.is_not_null())
    )
    return count == 2


async def _meetup_people(
    viewer: User, slug: str
) -> tuple[Meetup, dict[int, tuple[Attendance, dict[str, str]]]]:
    """A meetup the viewer was at, and everyone who was there as the viewer may see them."""
    meetup = await Meetup.objects().where(Meetup.slug == slug).first()
    if meetup is None or meetup.kind != "meetup":
        raise NotFound(N_("No such meetup."))
    rows = await (
        Rsvp.select(
            Rsvp.user,
            Rsvp.status,
            Rsvp.checked_in_at,
            Rsvp.visible,
            Rsvp.user.handle,
            Rsvp.user.display_name,
        )
        .where(Rsvp.meetup == meetup.id)
        .where((Rsvp.status == "going") | (Rsvp.checked_in_at.is_not_null()))
    )
    host = await User.select(User.id, User.handle, User.display_name).where(User.id == meetup.host)
    is_host = int(meetup.host) == viewer.id
    if not is_host and viewer.id not in {row["user"] for row in rows}:
        raise NotFound(N_("No such meetup."))
    blocked = await contacts.blocked_either_way(viewer.id)
    people: dict[int, tuple[Attendance, dict[str, str]]] = {}
    for row in rows:
        hidden = row["user"] in blocked or (not is_host and not row["visible"])
        if hidden and row["user"] != viewer.id:
            continue
        people[row["user"]] = (
            _attendance(meetup, row["user"], row),
            {"handle": row["user.handle"], "display_name": row["user.display_name"]},
        )
    for row in host:
        if row["id"] not in blocked:
            checked = people.get(row["id"])
            people[row["id"]] = (
                Attendance(
                    user_id=row["id"],
                    status=checked[0].status if checked else None,
                    checked_in=checked[0].checked_in if checked else False,
                    is_host=True,
                ),
                {"handle": row["handle"], "display_name": row["display_name"]},
            )
    return meetup, people


async def _events(one: int, other: int) -> list[PairEvent]:
    return contacts.as_pair_events(await contacts.pair_events(one, other))


async def _histories_with(viewer_id: int, others: list[int]) -> dict[int, list[PairEvent]]:
    """The viewer's history with each of these people, in one query."""
    if not others:
        return {}
    return await _histories(
        viewer_id,
        ((ContactEvent.low == viewer_id) & ContactEvent.high.is_in(others))
        | ((ContactEvent.high == viewer_id) & ContactEvent.low.is_in(others)),
    )


async def _histories(viewer_id: int, events: Combinable) -> dict[int, list[PairEvent]]:
    """The viewer's events that `events` picks, oldest first, by the other person."""
    rows = await (
        ContactEvent.select(
            ContactEvent.low,
            ContactEvent.high,
            ContactEvent.actor,
            ContactEvent.kind,
            ContactEvent.meetup,
            ContactEvent.met_on,
        )
        .where(events)
        .order_by(ContactEvent.id)
    )
    histories: dict[int, list[PairEvent]] = {}
    for row in rows:
        other = row["high"] if row["low"] == viewer_id else row["low"]
        histories.setdefault(other, []).append(
            PairEvent(row["kind"], row["actor"], meetup_id=row["meetup"], met_on=row["met_on"])
        )
    return histories


async def _live_handshake(
    settings: Settings, redeemer: User, raw_code: str, client: str
) -> Handshake:
    """The handshake a code names, refusing guesses beyond the limit, reuse and expiry."""
    now = datetime.now(UTC)
    subjects = [f"handshake:user:{redeemer.id}", f"handshake:ip:{client}"]
    for subject in subjects:
        await _refuse_when_guessing(subject, now)
    code = domain.normalize_code(raw_code)
    handshake = None
    if code is not None:
        digest = domain.code_digest(settings.secret_key, code)
        handshake = await Handshake.objects().where(Handshake.code_hash == digest).first()
    if handshake is None:
        await Attempt.insert(*(Attempt(kind="handshake_miss", subject=s) for s in subjects))
        if code is None:
            raise FieldError(
                "code", N_("A handshake code has 8 letters and digits, like K7QM-4XPD.")
            )
        raise NotFound(N_("This handshake code is not valid."), code="handshake_unknown")
    if int(handshake.issuer) == redeemer.id:
        raise Conflict(
            N_("This is your own code: let the other person scan or type it."),
            code="own_handshake",
        )
    if handshake.issuer in await contacts.blocked_either_way(redeemer.id):
        raise NotFound(N_("This handshake code is not valid."), code="handshake_unknown")
    if handshake.redeemed_by is not None:
        raise Conflict(N_("This handshake code was already used."), code="handshake_used")
    if handshake.expires_at <= now:
        raise DesvirtError(
            N_("This handshake code has expired. Ask for a fresh one."),
            code="handshake_expired",
            status_code=410,
        )
    return handshake


async def _refuse_when_guessing(subject: str, now: datetime) -> None:
    window = domain.REDEEM_FAILURE_WINDOW
    limit = domain.REDEEM_FAILURES_ALLOWED
    rows = await (
        Attempt.select(Attempt.at)
        .where((Attempt.subject == subject) & (Attempt.at > now - window))
        .order_by(Attempt.at, ascending=False)
        .limit(limit)
    )
    wait = accounts_domain.retry_after_seconds((row["at"] for row in rows), now, limit, window)
    if wait is not None:
        raise RateLimited(
            N_("Too many wrong handshake codes. Please wait before trying again."),
            retry_after=wait,
        )
