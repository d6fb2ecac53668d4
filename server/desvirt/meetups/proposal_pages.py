"""Proposal pages: propose times to contacts, vote, fix a time, decline; no JavaScript needed.

The candidate times and votes show on the meetup page itself (`/m/{slug}`); the forms here
post back and redirect there.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from desvirt.accounts.domain import FieldError
from desvirt.accounts.pages import COMMON_TIMEZONES
from desvirt.accounts.tables import User
from desvirt.contacts.tables import Contact
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.errors import DesvirtError, refusal_field, refusal_status, refusal_text
from desvirt.i18n import N_
from desvirt.meetups import domain, proposals, service
from desvirt.rendering import render, request_locale

PROPOSAL_FIELDS = ("title", "description", "timezone", "venue_name", "venue_address", "online_url")
CONTACTS_SHOWN = 200


@get("/m/propose", dependencies=SIGNED_IN)
async def propose_form(request: Request[Any, Any, Any], viewer: SignedInUser) -> Template:
    invitee = request.query_params.get("to", "")
    values: dict[str, Any] = {"timezone": viewer.timezone, "invitees": [invitee] if invitee else []}
    return await _form(request, viewer, values, {})


@post("/m/propose", dependencies=SIGNED_IN)
async def propose_submit(
    request: Request[Any, Any, Any], viewer: SignedInUser, settings: InstanceSettings
) -> Template | Redirect:
    form = await request.form()
    values: dict[str, Any] = {name: str(form.get(name, "") or "") for name in PROPOSAL_FIELDS}
    ticked = [str(handle) for handle in form.getall("invitees", [])]
    typed = [h for h in str(form.get("more_invitees", "")).replace(",", " ").split() if h]
    values["invitees"] = ticked
    values["more_invitees"] = str(form.get("more_invitees", ""))
    pairs = []
    for number in range(1, domain.MAX_TIME_OPTIONS + 1):
        starts, ends = (
            str(form.get(f"starts_at_{number}", "")),
            str(form.get(f"ends_at_{number}", "")),
        )
        values[f"starts_at_{number}"], values[f"ends_at_{number}"] = starts, ends
        if starts.strip() or ends.strip():
            pairs.append((starts, ends))
    try:
        options = domain.check_time_options(pairs, values["timezone"] or "UTC", now=service.now())
        first = options[0]
        draft = domain.MeetupDraft(
            **{name: values[name] for name in PROPOSAL_FIELDS},
            starts_at=first.starts_at.isoformat(),
            ends_at=first.ends_at.isoformat(),
            visibility="unlisted",
        )
        problems = domain.meetup_problems(draft, now=service.now())
        if problems:
            raise problems[0]
        fields = domain.check_meetup(draft, now=service.now())
        meetup = await proposals.create_proposal(
            settings, viewer, fields, [*ticked, *typed], options
        )
    except (FieldError, DesvirtError) as error:
        errors = {refusal_field(error): refusal_text(request_locale(request), error)}
        return await _form(request, viewer, values, errors, refusal_status(error))
    return Redirect(f"/m/{meetup.slug}?proposed=1", status_code=303)


@post("/m/{slug:str}/votes", dependencies=SIGNED_IN)
async def votes_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser
) -> Redirect:
    form = await request.form()
    answers = [
        (int(name.removeprefix("vote_")), str(value))
        for name, value in form.items()
        if name.startswith("vote_") and name.removeprefix("vote_").isdigit()
    ]
    await proposals.vote(slug, viewer, answers)
    return Redirect(f"/m/{slug}?voted=1#times", status_code=303)


@post("/m/{slug:str}/schedule", dependencies=SIGNED_IN)
async def schedule_submit(
    request: Request[Any, Any, Any], slug: str, viewer: SignedInUser
) -> Redirect:
    form = await request.form()
    option = str(form.get("option_id", ""))
    if not option.isdigit():
        raise DesvirtError(N_("Choose one of the candidate times."), status_code=422)
    await proposals.schedule(slug, viewer, int(option))
    return Redirect(f"/m/{slug}?scheduled=1", status_code=303)


@post("/m/{slug:str}/decline", dependencies=SIGNED_IN)
async def decline_submit(slug: str, viewer: SignedInUser) -> Redirect:
    await proposals.decline(slug, viewer)
    return Redirect("/?declined=1", status_code=303)


async def _form(
    request: Request[Any, Any, Any],
    viewer: User,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Template:
    contacts = await (
        Contact.select(Contact.other.handle, Contact.other.display_name, Contact.trust)
        .where(Contact.owner == viewer.id)
        .order_by(Contact.other.display_name)
        .limit(CONTACTS_SHOWN)
    )
    return await render(
        request,
        "meetups/propose.html",
        status_code=status_code,
        values=values,
        errors=errors,
        contacts=contacts,
        timezones=COMMON_TIMEZONES,
        option_numbers=range(1, domain.MAX_TIME_OPTIONS + 1),
    )


router = Router(
    path="/",
    route_handlers=[propose_form, propose_submit, votes_submit, schedule_submit, decline_submit],
    include_in_schema=False,
)
