"""The meetups part of the JSON API (`/api/v1/meetups...`): thin, the rules live in service."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Router, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import UNSET, Meta, Struct, UnsetType

from desvirt.accounts.tables import User
from desvirt.dependencies import (
    MAYBE_SIGNED_IN,
    SIGNED_IN,
    InstanceSettings,
    MaybeUser,
    SignedInUser,
)
from desvirt.meetups import domain, proposals, service
from desvirt.meetups.service import MeetupPage

ShortText = Annotated[str, Meta(max_length=1024)]
LongText = Annotated[str, Meta(max_length=domain.DESCRIPTION_MAX_LENGTH + 1000)]


class VenueBody(Struct, forbid_unknown_fields=True):
    name: ShortText = ""
    address: ShortText = ""
    latitude: float | None = None
    longitude: float | None = None


class TimeOptionBody(Struct, forbid_unknown_fields=True):
    starts_at: ShortText
    ends_at: ShortText


class MeetupBody(Struct, forbid_unknown_fields=True):
    title: ShortText
    starts_at: ShortText
    ends_at: ShortText
    timezone: ShortText
    description: LongText = ""
    venue: VenueBody | None = None
    online_url: ShortText = ""
    capacity: int | None = None
    visibility: ShortText = "public"
    contacts_min_trust: ShortText = "online"
    requires_approval: bool = False
    invitees: list[ShortText] | UnsetType = UNSET
    time_options: list[TimeOptionBody] | UnsetType = UNSET


class MeetupPatch(Struct, forbid_unknown_fields=True):
    title: ShortText | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    starts_at: ShortText | UnsetType = UNSET
    ends_at: ShortText | UnsetType = UNSET
    timezone: ShortText | UnsetType = UNSET
    venue: VenueBody | UnsetType | None = UNSET
    online_url: ShortText | UnsetType = UNSET
    capacity: int | UnsetType | None = UNSET
    visibility: ShortText | UnsetType = UNSET
    contacts_min_trust: ShortText | UnsetType = UNSET
    requires_approval: bool | UnsetType = UNSET


class VoteBody(Struct, forbid_unknown_fields=True):
    option_id: int
    answer: ShortText


class VotesBody(Struct, forbid_unknown_fields=True):
    votes: Annotated[list[VoteBody], Meta(max_length=domain.MAX_TIME_OPTIONS)]


class ScheduleBody(Struct, forbid_unknown_fields=True):
    option_id: int


class RsvpBody(Struct, forbid_unknown_fields=True):
    response: ShortText
    guests: int = 0
    visible: bool | None = None


class Created(Struct):
    slug: str
    url: str
    ics_url: str


class Person(Struct):
    handle: str
    display_name: str


class Venue(Struct):
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    map_url: str


class MyRsvp(Struct):
    status: str
    guests: int
    waitlist_position: int | None
    visible: bool
    checked_in: bool


class MeetupView(Struct):
    slug: str
    url: str
    ics_url: str
    kind: str
    status: str
    title: str
    description: str
    description_html: str
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str
    venue: Venue | None
    online_url: str
    capacity: int | None
    seats_taken: int
    seats_left: int | None
    going_count: int
    waitlist_count: int
    visibility: str
    contacts_min_trust: str
    requires_approval: bool
    sequence: int
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    host: Person
    my_rsvp: MyRsvp | None
    time_options: list[TimeOptionView] | None = None
    invitees: list[InviteeView] | None = None


class TimeOptionView(Struct):
    id: int
    starts_at: datetime
    ends_at: datetime
    votes: dict[str, int]
    my_vote: str | None


class InviteeView(Struct):
    handle: str
    display_name: str
    status: str


class RsvpAnswer(Struct, omit_defaults=True):
    status: str
    guests: int
    waitlist_position: int | None = None


class AttendeeView(Struct):
    handle: str
    display_name: str
    status: str
    guests: int
    waitlist_position: int | None = None
    checked_in: bool = False


class CheckIn(Struct):
    handle: str
    checked_in_at: datetime


@post("/meetups", status_code=HTTP_201_CREATED, dependencies=SIGNED_IN)
async def create_meetup(
    data: JSONBody[MeetupBody], viewer: SignedInUser, settings: InstanceSettings
) -> Created:
    """Create a meetup page; `starts_at`/`ends_at` without an offset are read in `timezone`."""
    venue = data.venue or VenueBody()
    draft = domain.MeetupDraft(
        title=data.title,
        description=data.description,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        venue_name=venue.name,
        venue_address=venue.address,
        latitude=venue.latitude,
        longitude=venue.longitude,
        online_url=data.online_url,
        capacity=data.capacity,
        visibility=data.visibility,
        contacts_min_trust=data.contacts_min_trust,
        requires_approval=data.requires_approval,
    )
    if isinstance(data.invitees, UnsetType) and isinstance(data.time_options, UnsetType):
        fields = domain.check_meetup(draft, now=service.now())
        meetup = await service.create_meetup(viewer, fields)
        return created(settings.base_url, meetup.slug)
    # A desvirtualización proposal: invitees vote on candidate times instead of one time.
    options = domain.check_time_options(
        [(option.starts_at, option.ends_at) for option in data.time_options or []],
        data.timezone,
        now=service.now(),
    )
    first = options[0]
    draft = replace(draft, starts_at=first.starts_at.isoformat(), ends_at=first.ends_at.isoformat())
    fields = domain.check_meetup(draft, now=service.now())
    meetup = await proposals.create_proposal(settings, viewer, fields, data.invitees or [], options)
    return created(settings.base_url, meetup.slug)


@get("/meetups/{slug:str}", dependencies=MAYBE_SIGNED_IN)
async def read_meetup(slug: str, viewer: MaybeUser, settings: InstanceSettings) -> MeetupView:
    return await full_view(settings.base_url, slug, viewer)


@patch("/meetups/{slug:str}", dependencies=SIGNED_IN)
async def edit_meetup(
    slug: str, data: JSONBody[MeetupPatch], viewer: SignedInUser, settings: InstanceSettings
) -> MeetupView:
    """The host changes fields; everything left out stays. Bumps the calendar SEQUENCE."""
    changes = patch_changes(data)
    await service.update_meetup(slug, viewer, changes)
    return await full_view(settings.base_url, slug, viewer)


@post("/meetups/{slug:str}/cancel", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def cancel_meetup(slug: str, viewer: SignedInUser, settings: InstanceSettings) -> MeetupView:
    await service.cancel_meetup(slug, viewer)
    return await full_view(settings.base_url, slug, viewer)


@post("/meetups/{slug:str}/rsvp", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def answer_meetup(slug: str, data: JSONBody[RsvpBody], viewer: SignedInUser) -> RsvpAnswer:
    """yes / maybe / no, with guests; a yes gets a seat, a waitlist place, or waits for the
    host's approval."""
    result = await service.rsvp(slug, viewer, data.response, data.guests, data.visible)
    return RsvpAnswer(result.status, result.guests, result.waitlist_position)


@get("/meetups/{slug:str}/attendees", dependencies=MAYBE_SIGNED_IN)
async def list_attendees(slug: str, viewer: MaybeUser) -> list[AttendeeView]:
    """The people this caller may see: all for the host, visible ones for other attendees."""
    page = await service.meetup_page(slug, viewer)
    return [
        AttendeeView(
            handle=a.handle,
            display_name=a.display_name,
            status=a.status,
            guests=a.guests,
            waitlist_position=a.waitlist_position,
            checked_in=a.checked_in_at is not None,
        )
        for a in page.listed()
    ]


@post(
    "/meetups/{slug:str}/attendees/{handle:str}/approve",
    status_code=HTTP_200_OK,
    dependencies=SIGNED_IN,
)
async def approve_attendee(slug: str, handle: str, viewer: SignedInUser) -> RsvpAnswer:
    """The host lets a pending RSVP in (a seat, or the waitlist when full)."""
    result = await service.decide(slug, viewer, handle, approve=True)
    return RsvpAnswer(result.status, result.guests, result.waitlist_position)


@post(
    "/meetups/{slug:str}/attendees/{handle:str}/decline",
    status_code=HTTP_200_OK,
    dependencies=SIGNED_IN,
)
async def decline_attendee(slug: str, handle: str, viewer: SignedInUser) -> RsvpAnswer:
    result = await service.decide(slug, viewer, handle, approve=False)
    return RsvpAnswer(result.status, result.guests, result.waitlist_position)


@post("/meetups/{slug:str}/checkin/{handle:str}", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def check_in(slug: str, handle: str, viewer: SignedInUser) -> CheckIn:
    """The host checks a going attendee in at the door."""
    at = await service.check_in(slug, viewer, handle)
    return CheckIn(handle=handle, checked_in_at=at)


def created(base_url: str, slug: str) -> Created:
    return Created(slug=slug, url=f"{base_url}/m/{slug}", ics_url=f"{base_url}/m/{slug}.ics")


def patch_changes(data: MeetupPatch) -> dict[str, Any]:
    """Only the fields the caller sent, under the draft's names."""
    changes: dict[str, Any] = {}
    for name in (
        "title",
        "description",
        "starts_at",
        "ends_at",
        "timezone",
        "online_url",
        "capacity",
        "visibility",
        "contacts_min_trust",
        "requires_approval",
    ):
        value = getattr(data, name)
        if not isinstance(value, UnsetType):
            changes[name] = value
    if not isinstance(data.venue, UnsetType):
        venue = data.venue or VenueBody()
        changes.update(
            venue_name=venue.name,
            venue_address=venue.address,
            latitude=venue.latitude,
            longitude=venue.longitude,
        )
    return changes


async def full_view(base_url: str, slug: str, viewer: User | None) -> MeetupView:
    """The meetup as this viewer may see it, with candidate times when it is a proposal."""
    page = await service.meetup_page(slug, viewer)
    proposal = None
    if page.meetup.kind == "proposal":
        proposal = await proposals.proposal_state(page.meetup, viewer)
    return meetup_view(base_url, page, proposal)


def meetup_view(
    base_url: str, page: MeetupPage, proposal: proposals.ProposalState | None = None
) -> MeetupView:
    meetup = page.meetup
    zone = ZoneInfo(meetup.timezone)
    has_venue = bool(meetup.venue_name or meetup.venue_address or meetup.latitude is not None)
    mine = page.mine
    return MeetupView(
        slug=meetup.slug,
        url=f"{base_url}/m/{meetup.slug}",
        ics_url=f"{base_url}/m/{meetup.slug}.ics",
        kind=meetup.kind,
        status=meetup.status,
        title=meetup.title,
        description=meetup.description,
        description_html=domain.render_description(meetup.description),
        starts_at=meetup.starts_at.astimezone(zone) if meetup.starts_at else None,
        ends_at=meetup.ends_at.astimezone(zone) if meetup.ends_at else None,
        timezone=meetup.timezone,
        venue=Venue(
            name=meetup.venue_name,
            address=meetup.venue_address,
            latitude=meetup.latitude,
            longitude=meetup.longitude,
            map_url=domain.map_url(meetup.latitude, meetup.longitude, meetup.venue_address),
        )
        if has_venue
        else None,
        online_url=meetup.online_url,
        capacity=meetup.capacity,
        seats_taken=meetup.seats_taken,
        seats_left=page.seats_left,
        going_count=len(page.going),
        waitlist_count=len(page.waitlist),
        visibility=meetup.visibility,
        contacts_min_trust=meetup.contacts_min_trust,
        requires_approval=meetup.requires_approval,
        sequence=meetup.sequence,
        created_at=meetup.created_at,
        updated_at=meetup.updated_at,
        cancelled_at=meetup.cancelled_at,
        host=Person(handle=page.host.handle, display_name=page.host.display_name),
        my_rsvp=MyRsvp(
            status=mine.status,
            guests=mine.guests,
            waitlist_position=mine.waitlist_position,
            visible=mine.visible,
            checked_in=mine.checked_in_at is not None,
        )
        if mine
        else None,
        time_options=[
            TimeOptionView(
                id=option.id,
                starts_at=option.starts_at.astimezone(zone),
                ends_at=option.ends_at.astimezone(zone),
                votes=option.votes,
                my_vote=option.mine,
            )
            for option in proposal.time_options
        ]
        if proposal
        else None,
        invitees=[
            InviteeView(handle=i.handle, display_name=i.display_name, status=i.status)
            for i in proposal.invitees
        ]
        if proposal
        else None,
    )


@post("/meetups/{slug:str}/votes", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def vote_on_times(
    slug: str, data: JSONBody[VotesBody], viewer: SignedInUser, settings: InstanceSettings
) -> MeetupView:
    """An invitee answers candidate times yes / maybe / no; voting again replaces the vote."""
    await proposals.vote(slug, viewer, [(v.option_id, v.answer) for v in data.votes])
    return await full_view(settings.base_url, slug, viewer)


@post("/meetups/{slug:str}/schedule", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def schedule_proposal(
    slug: str, data: JSONBody[ScheduleBody], viewer: SignedInUser, settings: InstanceSettings
) -> MeetupView:
    """The host fixes a candidate time; the proposal becomes a scheduled meetup."""
    await proposals.schedule(slug, viewer, data.option_id)
    return await full_view(settings.base_url, slug, viewer)


@post("/meetups/{slug:str}/decline", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def decline_proposal(slug: str, viewer: SignedInUser) -> dict[str, str]:
    """An invitee declines the whole proposal."""
    await proposals.decline(slug, viewer)
    return {"status": "declined"}


router = Router(
    path="/api/v1",
    route_handlers=[
        create_meetup,
        read_meetup,
        edit_meetup,
        cancel_meetup,
        answer_meetup,
        list_attendees,
        approve_attendee,
        decline_attendee,
        check_in,
        vote_on_times,
        schedule_proposal,
        decline_proposal,
    ],
    tags=["meetups"],
)
