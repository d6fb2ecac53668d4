"""The contacts pages: the list, requests, and a person's page with its connect form.

They work without JavaScript: every change is a POST form that redirects back (or, when
something is wrong, re-renders the page with the message next to the field and the input
kept). Forms carry the API's field names.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from desvirt.accounts.domain import FieldError
from desvirt.accounts.service import charter_of
from desvirt.accounts.tables import User
from desvirt.contacts import service
from desvirt.contacts.domain import REASONS
from desvirt.dependencies import (
    MAYBE_SIGNED_IN,
    SIGNED_IN,
    InstanceSettings,
    MaybeUser,
    SignedInUser,
)
from desvirt.errors import DesvirtError, refusal_field, refusal_text
from desvirt.i18n import N_
from desvirt.met import service as met_service
from desvirt.rendering import render, request_locale

CONTACTS_PER_PAGE = 50
FILTER_LEVELS = ("online", "met", "verified")


@get("/contacts", dependencies=SIGNED_IN)
async def contacts_page(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    trust: str = "",
    q: str = "",
    page: int = 1,
) -> Template:
    """My contacts, filtered by trust level and searched by name, 50 a page."""
    level = trust if trust in FILTER_LEVELS else None
    search = q.strip()[:100]
    found = await service.list_contacts(
        viewer, trust=level, search=search or None, page=max(1, page), per_page=CONTACTS_PER_PAGE
    )

    def page_url(number: int) -> str:
        params = {"trust": level or "", "q": search, "page": str(number)}
        return "/contacts?" + urlencode({k: v for k, v in params.items() if v})

    return await render(
        request,
        "contacts/list.html",
        found=found,
        trust=level or "",
        q=search,
        levels=FILTER_LEVELS,
        met_prompts=await met_service.met_prompts(viewer),
        previous_url=page_url(found.page - 1) if found.page > 1 else None,
        next_url=page_url(found.page + 1) if found.page < found.pages else None,
    )


@get("/contacts/requests", dependencies=SIGNED_IN)
async def requests_page(request: Request[Any, Any, Any], viewer: SignedInUser) -> Template:
    """Incoming requests to answer (with reason and history) and my outgoing ones."""
    return await render(
        request,
        "contacts/requests.html",
        incoming=await service.list_requests(viewer, "incoming", status="pending"),
        outgoing=await service.list_requests(viewer, "outgoing", per_page=30),
        done=request.query_params.get("done"),
    )


@post("/contacts/requests/{request_id:int}/accept", dependencies=SIGNED_IN)
async def accept_request(request_id: int, viewer: SignedInUser) -> Redirect:
    await service.answer_request(viewer, request_id, accept=True)
    return Redirect("/contacts/requests?done=accepted", status_code=303)


@post("/contacts/requests/{request_id:int}/decline", dependencies=SIGNED_IN)
async def decline_request(request_id: int, viewer: SignedInUser) -> Redirect:
    await service.answer_request(viewer, request_id, accept=False)
    return Redirect("/contacts/requests?done=declined", status_code=303)


@post("/contacts/requests/{request_id:int}/withdraw", dependencies=SIGNED_IN)
async def withdraw_request(request_id: int, viewer: SignedInUser) -> Redirect:
    await service.withdraw_request(viewer, request_id)
    return Redirect("/contacts/requests?done=withdrawn#outgoing", status_code=303)


@get("/u/{handle:str}", dependencies=MAYBE_SIGNED_IN)
async def person_page(request: Request[Any, Any, Any], handle: str, viewer: MaybeUser) -> Template:
    """A person's page; to someone they blocked, a 404 like any unknown handle."""
    person = await service.visible_person(viewer.id if viewer else None, handle)
    return await _person_page(request, viewer, person)


@post("/u/{handle:str}/connect", dependencies=SIGNED_IN)
async def connect(
    request: Request[Any, Any, Any],
    handle: str,
    viewer: SignedInUser,
    settings: InstanceSettings,
) -> Template | Redirect:
    """The connect form: a reason is required, a message as the person's charter asks."""
    form = await request.form()
    values = {
        "reason": str(form.get("reason", "")),
        "message": str(form.get("message", ""))[:10_000],
    }
    person = await service.visible_person(viewer.id, handle)
    try:
        if not values["reason"]:
            raise FieldError("reason", _REASON_REQUIRED)
        await service.send_request(
            settings,
            viewer,
            to_handle=person.handle,
            reason=values["reason"],
            message=values["message"],
        )
    except (FieldError, DesvirtError) as error:
        locale = request_locale(request)
        status = error.status_code if isinstance(error, DesvirtError) else 422
        page = await _person_page(
            request,
            viewer,
            person,
            status_code=status,
            values=values,
            errors={refusal_field(error): refusal_text(locale, error)},
        )
        if isinstance(error, DesvirtError):
            page.headers.update(error.headers)
        return page
    return Redirect(f"/u/{person.handle}?sent=1", status_code=303)


@post("/u/{handle:str}/remove", dependencies=SIGNED_IN)
async def remove(handle: str, viewer: SignedInUser) -> Redirect:
    await service.remove_contact(viewer, handle)
    return Redirect(f"/u/{handle}?done=removed", status_code=303)


@post("/u/{handle:str}/block", dependencies=SIGNED_IN)
async def block(handle: str, viewer: SignedInUser) -> Redirect:
    await service.block(viewer, handle)
    return Redirect(f"/u/{handle}?done=blocked", status_code=303)


@post("/u/{handle:str}/unblock", dependencies=SIGNED_IN)
async def unblock(handle: str, viewer: SignedInUser) -> Redirect:
    await service.unblock(viewer, handle)
    return Redirect(f"/u/{handle}?done=unblocked", status_code=303)


_REASON_REQUIRED = N_("Choose why you want to connect.")


async def _person_page(
    request: Request[Any, Any, Any],
    viewer: User | None,
    person: User,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    tie = met = None
    if viewer is not None and viewer.id != person.id:
        tie = await service.relationship(viewer, person)
        met = await met_service.met_between(viewer, person)
    return await render(
        request,
        "contacts/person.html",
        status_code=status_code,
        person=person,
        tie=tie,
        met=met,
        charter=charter_of(person),
        reasons=REASONS,
        values=values or {},
        errors=errors or {},
        sent=request.query_params.get("sent"),
        done=request.query_params.get("done"),
    )


router = Router(
    path="/",
    route_handlers=[
        contacts_page,
        requests_page,
        accept_request,
        decline_request,
        withdraw_request,
        person_page,
        connect,
        remove,
        block,
        unblock,
    ],
    include_in_schema=False,
)
