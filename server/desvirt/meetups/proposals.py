"""Desvirtualización proposals: invite contacts, offer 1-5 times, vote, fix one.

A proposal is a Meetup with `kind="proposal"` and `status="proposed"` and no time yet; only
the host and the invitees can see it. Invitees vote on the candidate times; when the host
fixes one, the meetup becomes `scheduled` like any other and the people who said yes to
that time are going. Invitations obey the invitee's charter (`proposals_from`), at most one
pending proposal per pair, and a declined proposal cannot be re-sent for a while.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from desvirt import database
from desvirt.accounts.tables import User
from desvirt.contacts import service as contacts
from desvirt.errors import Conflict, DesvirtError, Forbidden
from desvirt.i18n import N_
from desvirt.meetups import domain
from desvirt.meetups import service as meetups
from desvirt.meetups.domain import CandidateTime, MeetupFields
from desvirt.meetups.tables import Invitation, Meetup, TimeOption, Vote
from desvirt.notifications import service as notifications
from desvirt.settings import Settings

MAX_INVITEES = 20


@dataclass
class TimeOptionState:
    """A candidate time with its vote counts and the viewer's own answer."""

    id: int
    starts_at: datetime
    ends_at: datetime
    votes: dict[str, int]
    mine: str | None = None


@dataclass
class Invitee:
    user_id: int
    handle: str
    display_name: str
    status: str


@dataclass
class ProposalState:
    """What a proposal's page shows: the times with their votes, and who is invited."""

    time_options: list[TimeOptionState] = field(default_factory=list)
    invitees: list[Invitee] = field(default_factory=list)
    voters: int = 0


async def create_proposal(
    settings: Settings,
    host: User,
    fields: MeetupFields,
    invitee_handles: Sequence[str],
    options: Sequence[CandidateTime],
) -> Meetup:
    """A new proposal to these people, or a refusal naming the first person who cannot get it."""
    people = await _invitees(host, invitee_handles)
    now = datetime.now(UTC)
    async with database.write_transaction():
        for person in people:
            await _check_may_invite(settings, host, person, now)
        meetup = await meetups.insert_meetup(host.id, fields, kind="proposal", status="proposed")
        await Meetup.update({Meetup.starts_at: None, Meetup.ends_at: None}).where(
            Meetup.id == meetup.id
        )
        meetup.starts_at = meetup.ends_at = None
        await TimeOption.insert(
            *[
                TimeOption(
                    meetup=meetup.id,
                    starts_at=option.starts_at,
                    ends_at=option.ends_at,
                    position=position,
                )
                for position, option in enumerate(options)
            ]
        )
        await Invitation.insert(
            *[
                Invitation(meetup=meetup.id, user=person.id, status="pending", created_at=now)
                for person in people
            ]
        )
        await notifications.people_invited(meetup.id, [person.id for person in people])
    return meetup


async def proposal_state(meetup: Meetup, viewer: User | None) -> ProposalState:
    """Candidate times with vote counts, the viewer's votes, and the invitees: 3 queries."""
    options = await (
        TimeOption.select(TimeOption.id, TimeOption.starts_at, TimeOption.ends_at)
        .where(TimeOption.meetup == meetup.id)
        .order_by(TimeOption.position)
    )
    votes = await Vote.select(Vote.option, Vote.user, Vote.answer).where(
        Vote.option.meetup == meetup.id
    )
    invited = await (
        Invitation.select(
            Invitation.user, Invitation.user.handle, Invitation.user.display_name, Invitation.status
        )
        .where(Invitation.meetup == meetup.id)
        .order_by(Invitation.id)
    )
    counts = domain.tally((vote["option"], vote["answer"]) for vote in votes)
    mine = {
        vote["option"]: vote["answer"]
        for vote in votes
        if viewer is not None and vote["user"] == viewer.id
    }
    empty = dict.fromkeys(domain.VOTE_ANSWERS, 0)
    return ProposalState(
        time_options=[
            TimeOptionState(
                id=option["id"],
                starts_at=option["starts_at"],
                ends_at=option["ends_at"],
                votes=counts.get(option["id"], dict(empty)),
                mine=mine.get(option["id"]),
            )
            for option in options
        ],
        invitees=[
            Invitee(row["user"], row["user.handle"], row["user.display_name"], row["status"])
            for row in invited
        ],
        voters=len({vote["user"] for vote in votes}),
    )


async def vote(slug: str, viewer: User, answers: Sequence[tuple[int, str]]) -> ProposalState:
    """An invitee (or the host) answers candidate times; a later vote replaces an earlier one."""
    meetup, host = await meetups.visible_meetup(slug, viewer)
    checked = [(int(option_id), domain.check_vote(answer)) for option_id, answer in answers]
    if not checked:
        raise DesvirtError(
            N_("Vote on at least one candidate time."),
            status_code=422,
            code="invalid_input",
            field="votes",
        )
    async with database.write_transaction():
        _refuse_unless_proposed(await meetups._locked(meetup.id))
        invitation = await _invitation(meetup.id, viewer.id)
        if viewer.id != host.id and invitation is None:
            raise Forbidden(N_("Only invited people can vote."), code="not_invited")
        if invitation is not None and invitation["status"] == "declined":
            raise Conflict(N_("You declined this proposal."), code="declined")
        option_ids = {
            row["id"]
            for row in await TimeOption.select(TimeOption.id).where(TimeOption.meetup == meetup.id)
        }
        unknown = [option_id for option_id, _ in checked if option_id not in option_ids]
        if unknown:
            raise DesvirtError(
                N_("That candidate time is not part of this proposal."),
                status_code=422,
                code="invalid_input",
                field="votes",
            )
        voted = [option_id for option_id, _ in checked]
        await Vote.delete().where((Vote.user == viewer.id) & Vote.option.is_in(voted))
        now = datetime.now(UTC)
        await Vote.insert(
            *[
                Vote(option=option_id, user=viewer.id, answer=answer, created_at=now)
                for option_id, answer in dict(checked).items()
            ]
        )
        if invitation is not None and invitation["status"] == "pending":
            await Invitation.update(
                {Invitation.status: "accepted", Invitation.answered_at: now}
            ).where(Invitation.id == invitation["id"])
    return await proposal_state(meetup, viewer)


async def decline(slug: str, viewer: User) -> None:
    """An invitee says no to the whole proposal; the host may not re-send it for a while."""
    meetup, _ = await meetups.visible_meetup(slug, viewer)
    async with database.write_transaction():
        _refuse_unless_proposed(await meetups._locked(meetup.id))
        invitation = await _invitation(meetup.id, viewer.id)
        if invitation is None:
            raise Forbidden(N_("Only invited people can decline."), code="not_invited")
        await Invitation.update(
            {Invitation.status: "declined", Invitation.answered_at: datetime.now(UTC)}
        ).where(Invitation.id == invitation["id"])


async def schedule(slug: str, viewer: User, option_id: int) -> Meetup:
    """The host fixes one candidate time: the proposal becomes a scheduled meetup, and the
    people who said yes to that time are going (seated like any RSVP)."""
    meetup, host = await meetups.visible_meetup(slug, viewer)
    if host.id != viewer.id:
        raise Forbidden(N_("Only the host can do that."), code="not_host")
    async with database.write_transaction():
        locked = await meetups._locked(meetup.id)
        _refuse_unless_proposed(locked)
        option = await (
            TimeOption.select(TimeOption.starts_at, TimeOption.ends_at)
            .where((TimeOption.id == option_id) & (TimeOption.meetup == locked.id))
            .first()
        )
        if option is None:
            raise DesvirtError(
                N_("That candidate time is not part of this proposal."),
                status_code=422,
                code="invalid_input",
                field="option_id",
            )
        if option["starts_at"] <= datetime.now(UTC):
            raise Conflict(N_("That candidate time has already passed."), code="past")
        now = datetime.now(UTC)
        await Meetup.update(
            {
                Meetup.starts_at: option["starts_at"],
                Meetup.ends_at: option["ends_at"],
                Meetup.status: "scheduled",
                Meetup.sequence: locked.sequence + 1,
                Meetup.updated_at: now,
            }
        ).where(Meetup.id == locked.id)
        locked.starts_at, locked.ends_at = option["starts_at"], option["ends_at"]
        locked.status, locked.updated_at = "scheduled", now
        locked.sequence += 1
        yes_voters = [
            row["user"]
            for row in await Vote.select(Vote.user)
            .where((Vote.option == option_id) & (Vote.answer == "yes") & (Vote.user != host.id))
            .order_by(Vote.created_at)
        ]
        seats, rows = await meetups._seats(locked.id)
        for user_id in yes_voters:
            try:
                seats = domain.answer(
                    seats,
                    capacity=locked.capacity,
                    requires_approval=False,
                    user_id=user_id,
                    response="yes",
                    guests=0,
                    approved=True,
                )
            except domain.NoSeats:
                continue
        await meetups._store(locked, rows, seats, answered_by=None)
        await notifications.meetup_updated(locked.id)
        # Invitees without a seat now (no vote, or not a yes) hear the fixed time and answer.
        seated = {seat.user_id for seat in seats}
        undecided = [
            row["user"]
            for row in await Invitation.select(Invitation.user).where(
                (Invitation.meetup == locked.id) & (Invitation.status != "declined")
            )
            if row["user"] not in seated
        ]
        if undecided:
            await notifications.people_invited(locked.id, undecided)
    return locked


# --- inside the transaction ------------------------------------------------------------


async def _invitees(host: User, handles: Sequence[str]) -> list[User]:
    wanted = list(dict.fromkeys(h.strip().lstrip("@").lower() for h in handles if h.strip()))
    if not wanted:
        raise DesvirtError(
            N_("Invite at least one person."),
            status_code=422,
            code="invalid_input",
            field="invitees",
        )
    if len(wanted) > MAX_INVITEES:
        raise DesvirtError(
            N_("Invite at most %(count)s people."),
            status_code=422,
            code="invalid_input",
            field="invitees",
            count=MAX_INVITEES,
        )
    if host.handle in wanted:
        raise DesvirtError(
            N_("You cannot invite yourself."),
            status_code=422,
            code="invalid_input",
            field="invitees",
        )
    people = await User.objects().where(User.handle.is_in(wanted))
    blocked = await contacts.blocked_either_way(host.id)
    found = {person.handle: person for person in people if person.id not in blocked}
    missing = [handle for handle in wanted if handle not in found]
    if missing:
        raise DesvirtError(
            N_("No such person: %(handle)s."),
            status_code=422,
            code="invalid_input",
            field="invitees",
            handle=missing[0],
        )
    return [found[handle] for handle in wanted]


async def _check_may_invite(settings: Settings, host: User, person: User, now: datetime) -> None:
    if not await contacts.may_propose(host.id, person.id):
        raise Forbidden(
            N_("%(name)s only takes meetup proposals from closer contacts."),
            code="charter_proposals_from",
            field="invitees",
            name=person.display_name,
        )
    earlier = await (
        Invitation.select(Invitation.status, Invitation.answered_at, Invitation.meetup.status)
        .where(
            (Invitation.user == person.id)
            & (Invitation.meetup.host == host.id)
            & (Invitation.meetup.kind == "proposal")
        )
        .order_by(Invitation.id, ascending=False)
    )
    for row in earlier:
        if row["status"] != "declined" and row["meetup.status"] == "proposed":
            raise Conflict(
                N_("You already have a pending proposal to %(name)s."),
                code="proposal_pending",
                field="invitees",
                name=person.display_name,
            )
        if row["status"] == "declined" and not domain.proposal_may_be_resent(
            row["answered_at"], now, settings.proposal_cooldown_days
        ):
            raise Conflict(
                N_("%(name)s declined your last proposal; wait %(days)s days before asking again."),
                code="proposal_cooldown",
                field="invitees",
                name=person.display_name,
                days=settings.proposal_cooldown_days,
            )


async def _invitation(meetup_id: int, user_id: int) -> dict[str, object] | None:
    row: dict[str, object] | None = await (
        Invitation.select(Invitation.id, Invitation.status)
        .where((Invitation.meetup == meetup_id) & (Invitation.user == user_id))
        .first()
    )
    return row


def _refuse_unless_proposed(meetup: Meetup) -> None:
    if meetup.status == "cancelled":
        raise Conflict(N_("This meetup was cancelled."), code="cancelled")
    if meetup.kind != "proposal" or meetup.status != "proposed":
        raise Conflict(N_("This meetup already has a fixed time."), code="not_a_proposal")
