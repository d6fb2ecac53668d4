"""The meetups pages: create, show, edit, RSVP, approve, ticket and check-in, without JavaScript.

Forms carry the API's field names; a refused form comes back with the message next to the
field and everything typed kept. `GET /m/{slug}.ics` arrives here too (Litestar's `{slug}`
takes "x.ics") and is handed to the calendar feature.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import segno
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template

from desvirt.accounts.auth import current_viewer
from desvirt.accounts.domain import FieldError
from desvirt.accounts.pages import COMMON_TIMEZONES
from desvirt.calendar import api as calendar_api
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.errors import (
    DesvirtError,
    Forbidden,
    NotFound,
    refusal_field,
    refusal_status,
    refusal_text,
)
from desvirt.i18n import N_
from desvirt.meetups import domain, proposals, service
from desvirt.meetups.service import MeetupPage
from desvirt.public_lane import meetup_page_key
from desvirt.rendering import render, render_public, request_locale
from desvirt.signed_in_lane import render_kept

# The draft's text fields; `requires_approval` is a checkbox, read on its own.
FORM_FIELDS = tuple(
    draft_field.name
    for draft_field in dataclass_fields(domain.MeetupDraft)
    if draft_field.name != "requires_approval"
)
ANSWERED_MESSAGES = {
    "going": N_("You are going. See you there!"),
    "waitlisted": N_("The meetup is full: you are on the waitlist."),
    "maybe": N_("You answered maybe."),
    "declined": N_("You are not going."),
    "pending_approval": N_("The host will confirm your place."),
}
NOTICES = {
    "created": N_("Your meetup is ready. Share this page."),
    "saved": N_("Saved."),
    "proposed": N_("Your proposal is sent. Invitees vote on the times; then you fix one."),
    "voted": N_("Thanks, your votes are in."),
    "scheduled": N_("The time is fixed: this is now a scheduled meetup."),
}


@get("/m/new", dependencies=SIGNED_IN)
async def new_meetup_form(request: Request[Any, Any, Any], viewer: SignedInUser) -> Template:
    values = {"timezone": viewer.timezone, "visibility": "public", "contacts_min_trust": "online"}
    return await _form(request, "new", values, {})


@post("/m/new", dependencies=SIGNED_IN)
async def new_meetup_submit(
    request: Request[Any, Any, Any], viewer: SignedInUser
) -> Template | Redirect:
    values, draft = await _draft_from_form(request)
    problems = domain.meetup_problems(draft, now=service.now())
    if problems:
        return await _form(request, "new", values, _messages(request, problems), 422)
    meetup = await service.create_meetup(viewer, domain.check_meetup(draft))
    return Redirect(f"/m/{meetup.slug}?created=1", status_code=303)


@get("/m/{slug:str}")
async def meetup_page(
    request: Request[Any, Any, Any], slug: str, settings: InstanceSettings
) -> Template | Response[Any]:
    """The meetup page; `/m/{slug}.ics` is the calendar feature's."""
    if slug.endswith(".ics"):
        return await calendar_api.meetup_feed_response(request, slug.removesuffix(".ics"))
    viewer = await current_viewer(request)
    notice = _notice(request)
    if viewer is None:

        async def build() -> tuple[str, dict[str, Any]]:
            page = await service.meetup_page(slug, None)
            return "meetups/meetup.html", await _show_context(page, settings, notice=notice)

        return await render_public(request, meetup_page_key(slug, notice), build)
    page = await service.meetup_page(slug, viewer)
    if notice is not None or page.meetup.kind == "proposal":
        return await _show(request, page, settings, notice=notice)
    # What a signed-in viewer reopens: desvirt.signed_in_lane may answer the next view.
    context = await _show_context(page, settings)
    changes_at = domain.page_changes_at(page.meetup.starts_at, page.meetup.ends_at, service.now())
    return await render_kept(
        request, "meetups/meetup.html", context, changes_at=changes_at, meetup_id=page.meetup.id
    )


def _notice(request: Request[Any, Any, Any]) -> str | None:
    """What the page says after the action that led here (`?answered=going`, ...)."""
    params = request.query_params
    answered = params.get("answered")
    if answered in ANSWERED_MESSAGES:
        return ANSWERED_MESSAGES[answered]
    for flag, message in NOTICES.items():
        if params.get(flag):
            return message
    return None


@post("/m/{slug:str}/rsvp", dependencies=SIGNED_IN)
async def rsvp_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    try:
        result = await service.rsvp(
            slug, viewer, str(form.get("response", "")), str(form.get("guests", "") or "0")
        )
    except (FieldError, DesvirtError) as error:
        page = await service.meetup_page(slug, viewer)
        return await _show(
            request,
            page,
            settings,
            errors={"rsvp": refusal_text(request_locale(request), error)},
            status_code=refusal_status(error),
        )
    return Redirect(f"/m/{slug}?answered={result.status}#rsvp", status_code=303)


@post("/m/{slug:str}/visibility", dependencies=SIGNED_IN)
async def visibility_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser
) -> Redirect:
    form = await request.form()
    await service.set_visible(slug, viewer, form.get("visible") == "1")
    return Redirect(f"/m/{slug}?saved=1#attendees", status_code=303)


@post("/m/{slug:str}/attendees/{handle:str}/{decision:str}", dependencies=SIGNED_IN)
async def decide_submit(slug: str, handle: str, decision: str, viewer: SignedInUser) -> Redirect:
    """The host approves or declines a pending RSVP."""
    if decision not in ("approve", "decline"):
        raise NotFound(N_("No such meetup."))
    await service.decide(slug, viewer, handle, approve=decision == "approve")
    return Redirect(f"/m/{slug}?saved=1#attendees", status_code=303)


@get("/m/{slug:str}/checkin/{handle:str}", dependencies=SIGNED_IN)
async def checkin_page(
    request: Request[Any, Any, Any], slug: str, handle: str, viewer: SignedInUser
) -> Template:
    """Where a ticket's QR code leads: the host confirms the check-in with one tap."""
    page = await service.meetup_page(slug, viewer)
    if not page.is_host:
        raise Forbidden(N_("Only the host can do that."), code="not_host")
    attendee = next((a for a in page.attendees if a.handle == handle), None)
    return await render(request, "meetups/checkin.html", page=page, attendee=attendee)


@post("/m/{slug:str}/checkin/{handle:str}", dependencies=SIGNED_IN)
async def checkin_submit(slug: str, handle: str, viewer: SignedInUser) -> Redirect:
    await service.check_in(slug, viewer, handle)
    return Redirect(f"/m/{slug}?saved=1#attendees", status_code=303)


@get("/m/{slug:str}/ticket", dependencies=SIGNED_IN)
async def ticket_page(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser, settings: InstanceSettings
) -> Template:
    """A going attendee's ticket: a QR code that opens the host's check-in page."""
    page = await service.meetup_page(slug, viewer)
    if page.mine is None or page.mine.status != "going":
        raise NotFound(N_("Only people going have a ticket."), code="no_ticket")
    url = f"{settings.base_url}/m/{slug}/checkin/{viewer.handle}"
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=6, dark="#111", light="#fff", title=url)
    return await render(request, "meetups/ticket.html", page=page, qr_svg=svg, checkin_url=url)


@get("/m/{slug:str}/edit", dependencies=SIGNED_IN)
async def edit_form(request: Request[Any, Any, Any], slug: str, viewer: SignedInUser) -> Template:
    page = await service.meetup_page(slug, viewer)
    _only_host(page)
    return await _form(request, "edit", _values_of(page), {}, page=page)


@post("/m/{slug:str}/edit", dependencies=SIGNED_IN)
async def edit_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser
) -> Template | Redirect:
    page = await service.meetup_page(slug, viewer)
    _only_host(page)
    values, draft = await _draft_from_form(request)
    problems = domain.meetup_problems(draft)
    errors = _messages(request, problems)
    status_code = 422
    if not errors:
        changes = {name: getattr(draft, name) for name in (*FORM_FIELDS, "requires_approval")}
        try:
            await service.update_meetup(slug, viewer, changes)
        except (FieldError, DesvirtError) as error:
            errors = {refusal_field(error): refusal_text(request_locale(request), error)}
            status_code = refusal_status(error)
        else:
            return Redirect(f"/m/{slug}?saved=1", status_code=303)
    return await _form(request, "edit", values, errors, status_code, page=page)


@post("/m/{slug:str}/cancel", dependencies=SIGNED_IN)
async def cancel_submit(slug: str, viewer: SignedInUser) -> Redirect:
    await service.cancel_meetup(slug, viewer)
    return Redirect(f"/m/{slug}?saved=1", status_code=303)


# --- rendering -------------------------------------------------------------------------


async def _show(
    request: Request[Any, Any, Any],
    page: MeetupPage,
    settings: InstanceSettings,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    context = await _show_context(page, settings, notice=notice, errors=errors)
    return await render(request, "meetups/meetup.html", status_code=status_code, **context)


async def _show_context(
    page: MeetupPage,
    settings: InstanceSettings,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    meetup = page.meetup
    url = f"{settings.base_url}/m/{meetup.slug}"
    location = ", ".join(p for p in (meetup.venue_name, meetup.venue_address) if p)
    calendar_link = ""
    if meetup.starts_at and meetup.ends_at:
        calendar_link = domain.google_calendar_url(
            title=meetup.title,
            starts_at=meetup.starts_at,
            ends_at=meetup.ends_at,
            details=f"{domain.summary_text(meetup.description, 500)}\n\n{url}".strip(),
            location=location or meetup.online_url,
        )
    viewer_zone = page.viewer.timezone if page.viewer else None
    proposal = None
    if meetup.kind == "proposal":
        proposal = await proposals.proposal_state(meetup, page.viewer)
    return {
        "page": page,
        "meetup": meetup,
        "url": url,
        "ics_url": f"{url}.ics",
        "google_url": calendar_link,
        "description_html": domain.render_description(meetup.description),
        "summary": domain.summary_text(meetup.description),
        "map_url": domain.map_url(meetup.latitude, meetup.longitude, meetup.venue_address),
        "show_viewer_zone": bool(viewer_zone and viewer_zone != meetup.timezone),
        "viewer_zone": viewer_zone,
        "is_over": bool(meetup.ends_at and meetup.ends_at <= service.now()),
        "has_begun": bool(meetup.starts_at and meetup.starts_at <= service.now()),
        "notice": notice,
        "errors": errors or {},
        "proposal": proposal,
    }


async def _form(
    request: Request[Any, Any, Any],
    mode: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    page: MeetupPage | None = None,
) -> Template:
    return await render(
        request,
        "meetups/form.html",
        status_code=status_code,
        mode=mode,
        values=values,
        errors=errors,
        page=page,
        timezones=COMMON_TIMEZONES,
        visibilities=domain.VISIBILITIES,
        min_trusts=domain.CONTACTS_MIN_TRUST,
    )


async def _draft_from_form(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], Any]:
    form = await request.form()
    values: dict[str, Any] = {name: str(form.get(name, "") or "") for name in FORM_FIELDS}
    values["requires_approval"] = form.get("requires_approval") == "1"
    draft = domain.MeetupDraft(
        **{name: values[name] for name in FORM_FIELDS},
        requires_approval=values["requires_approval"],
    )
    return values, draft


def _values_of(page: MeetupPage) -> dict[str, Any]:
    meetup = page.meetup
    zone = ZoneInfo(meetup.timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        "title": meetup.title,
        "description": meetup.description,
        "starts_at": local(meetup.starts_at),
        "ends_at": local(meetup.ends_at),
        "timezone": meetup.timezone,
        "venue_name": meetup.venue_name,
        "venue_address": meetup.venue_address,
        "latitude": "" if meetup.latitude is None else f"{meetup.latitude:.6f}",
        "longitude": "" if meetup.longitude is None else f"{meetup.longitude:.6f}",
        "online_url": meetup.online_url,
        "capacity": "" if meetup.capacity is None else str(meetup.capacity),
        "visibility": meetup.visibility,
        "contacts_min_trust": meetup.contacts_min_trust,
        "requires_approval": meetup.requires_approval,
    }


def _messages(request: Request[Any, Any, Any], problems: list[FieldError]) -> dict[str, str]:
    locale = request_locale(request)
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(problem.field, refusal_text(locale, problem))
    return found


def _only_host(page: MeetupPage) -> None:
    if not page.is_host:
        raise Forbidden(N_("Only the host can do that."), code="not_host")


router = Router(
    path="/",
    route_handlers=[
        new_meetup_form,
        new_meetup_submit,
        meetup_page,
        rsvp_submit,
        visibility_submit,
        decide_submit,
        checkin_page,
        checkin_submit,
        ticket_page,
        edit_form,
        edit_submit,
        cancel_submit,
    ],
    include_in_schema=False,
)
