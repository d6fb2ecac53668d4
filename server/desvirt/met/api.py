"""Met in person in the JSON API: met claims, the meetup checklist, handshake codes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Meta, Struct

from desvirt.accounts.api import client_ip
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.meetups.tables import Meetup
from desvirt.met import service
from desvirt.met.service import ClaimOutcome

ShortText = Annotated[str, Meta(max_length=200)]


class MetBody(Struct, forbid_unknown_fields=True):
    meetup_slug: ShortText | None = None
    met_on: date | None = None


class ChecklistBody(Struct, forbid_unknown_fields=True):
    handles: Annotated[list[ShortText], Meta(max_length=1000)]


class TrustAnswer(Struct, omit_defaults=True):
    trust: str
    contact_request: str | None = None
    declined_rule: str | None = None
    explanation: str | None = None


class PersonTrust(Struct, omit_defaults=True):
    handle: str
    trust: str
    contact_request: str | None = None
    declined_rule: str | None = None
    explanation: str | None = None


class ClaimView(Struct):
    meetup_slug: str | None
    met_on: date | None


class MetRecord(Struct):
    handle: str
    display_name: str
    trust: str
    my_claim: ClaimView | None
    their_claim: ClaimView | None


class ChecklistEntry(Struct):
    handle: str
    display_name: str
    checked_in: bool
    is_host: bool
    trust: str
    i_claimed: bool
    they_claimed: bool


class ChecklistView(Struct):
    meetup_slug: str
    has_begun: bool
    people: list[ChecklistEntry]


class ChecklistResult(Struct):
    people: list[PersonTrust]


class PromptView(Struct):
    handle: str
    display_name: str
    meetup_slug: str | None
    met_on: date | None


class IssuedCode(Struct):
    code: str
    redeem_url: str
    expires_at: datetime


class Redeemed(Struct):
    trust: str
    handle: str
    display_name: str


@post("/contacts/{handle:str}/met", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def claim_met(
    handle: str,
    viewer: SignedInUser,
    settings: InstanceSettings,
    data: Annotated[MetBody | None, Body(title="Where and when you met")] = None,
) -> TrustAnswer:
    """I met this person (optionally at a meetup, on a day). The other side's claim of the
    same meeting, or the host's check-in of both at the named meetup, makes it `verified`.

    With a non-contact at a shared meetup the claim is also a `met_in_person` contact
    request: `contact_request` is `sent`, `accepted` (they had asked me), `auto_declined`
    (their charter declines it) or `not_sent` (my request limits or the decline cooldown),
    the last two with `declined_rule` and a localized `explanation`. The claim counts
    either way."""
    body = data or MetBody()
    outcome = await service.claim_met(
        settings, viewer, handle, meetup_slug=body.meetup_slug, met_on=body.met_on
    )
    request = outcome.request
    return TrustAnswer(
        trust=outcome.trust,
        contact_request=request.status,
        declined_rule=request.declined_rule,
        explanation=request.explanation,
    )


@delete("/contacts/{handle:str}/met", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def retract_met(handle: str, viewer: SignedInUser) -> TrustAnswer:
    """Take back my met claim; trust is recomputed from the history."""
    return TrustAnswer(trust=await service.retract_met(viewer, handle))


@get("/contacts/{handle:str}/met", dependencies=SIGNED_IN)
async def met_record(handle: str, viewer: SignedInUser) -> MetRecord:
    """What the two of us said about meeting; nobody else can read it."""
    status = await service.met_status(viewer, handle)
    slugs = await _slugs(
        [c.meetup_id for c in (status.my_claim, status.their_claim) if c and c.meetup_id]
    )
    return MetRecord(
        handle=status.handle,
        display_name=status.display_name,
        trust=status.trust,
        my_claim=_claim_view(status.my_claim, slugs),
        their_claim=_claim_view(status.their_claim, slugs),
    )


@get("/met/prompts", dependencies=SIGNED_IN)
async def met_prompts(viewer: SignedInUser) -> list[PromptView]:
    """People who say they met me and wait for my confirmation."""
    return [
        PromptView(
            handle=p.handle, display_name=p.display_name, meetup_slug=p.meetup_slug, met_on=p.met_on
        )
        for p in await service.met_prompts(viewer)
    ]


@get("/meetups/{slug:str}/met", dependencies=SIGNED_IN)
async def checklist(slug: str, viewer: SignedInUser) -> ChecklistView:
    """Who else was at this meetup, checked-in first, and whom I already marked as met."""
    found = await service.checklist(viewer, slug)
    return ChecklistView(
        meetup_slug=found.meetup.slug,
        has_begun=found.has_begun,
        people=[ChecklistEntry(**person.__dict__) for person in found.people],
    )


@post("/meetups/{slug:str}/met", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def record_checklist(
    slug: str,
    data: Annotated[ChecklistBody, Body()],
    viewer: SignedInUser,
    settings: InstanceSettings,
) -> ChecklistResult:
    """Mark everyone I met at this meetup in one go; people left out lose a claim made here."""
    outcomes = await service.record_checklist(settings, viewer, slug, data.handles)
    return ChecklistResult(people=[_person_trust(outcome) for outcome in outcomes])


@post("/handshake", status_code=HTTP_201_CREATED, dependencies=SIGNED_IN)
async def issue_handshake(viewer: SignedInUser, settings: InstanceSettings) -> IssuedCode:
    """A short-lived code to show face to face; a new one replaces the last unused one."""
    issued = await service.issue_handshake(settings, viewer)
    return IssuedCode(code=issued.code, redeem_url=issued.redeem_url, expires_at=issued.expires_at)


@post("/handshake/{code:str}", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def redeem_handshake(
    code: str, request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Redeemed:
    """Redeem the other person's code: connected and `verified` at once."""
    issuer, trust = await service.redeem_handshake(settings, viewer, code, client_ip(request))
    return Redeemed(trust=trust, handle=issuer.handle, display_name=issuer.display_name)


def _person_trust(outcome: ClaimOutcome) -> PersonTrust:
    request = outcome.request
    return PersonTrust(
        handle=outcome.handle,
        trust=outcome.trust,
        contact_request=request.status,
        declined_rule=request.declined_rule,
        explanation=request.explanation,
    )


def _claim_view(claim: Any, slugs: dict[int, str]) -> ClaimView | None:
    if claim is None:
        return None
    return ClaimView(
        meetup_slug=slugs.get(claim.meetup_id) if claim.meetup_id else None, met_on=claim.met_on
    )


async def _slugs(meetup_ids: list[int]) -> dict[int, str]:
    if not meetup_ids:
        return {}
    rows = await Meetup.select(Meetup.id, Meetup.slug).where(Meetup.id.is_in(meetup_ids))
    return {row["id"]: row["slug"] for row in rows}


router = Router(
    path="/api/v1",
    route_handlers=[
        claim_met,
        retract_met,
        met_record,
        met_prompts,
        checklist,
        record_checklist,
        issue_handshake,
        redeem_handshake,
    ],
    tags=["met in person"],
)
