"""The contacts part of the JSON API (`/api/v1`): requests, the list, one contact, blocks.

Thin: parse, call the service, shape the answer. The rules live in service and domain.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, delete, get, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import Meta, Struct

from desvirt.accounts.domain import FieldError
from desvirt.contacts import service
from desvirt.contacts.service import ContactDetail, ContactSummary, RequestView
from desvirt.dependencies import SIGNED_IN, InstanceSettings, SignedInUser
from desvirt.i18n import N_

ShortText = Annotated[str, Meta(max_length=100)]
MessageText = Annotated[str, Meta(max_length=10_000)]
REQUEST_STATUSES = ("pending", "accepted", "declined", "auto_declined", "withdrawn")


class RequestBody(Struct, forbid_unknown_fields=True):
    to_handle: ShortText
    reason: ShortText
    message: MessageText = ""


class BlockState(Struct):
    handle: str
    blocked: bool


@post("/contacts/requests", status_code=HTTP_201_CREATED, dependencies=SIGNED_IN)
async def send_request(
    data: JSONBody[RequestBody], viewer: SignedInUser, settings: InstanceSettings
) -> RequestView:
    """Ask to connect, with a charter reason and a message.

    201 with `status` pending, or `auto_declined` with `declined_rule` and a localized
    `explanation` when the recipient's charter declines it; 422 for an unknown reason or a
    missing message the recipient requires; 409 for the cooldown after a decline, a block,
    an existing contact or an open request; 429 with `Retry-After` over the limits.
    """
    return await service.send_request(
        settings, viewer, to_handle=data.to_handle, reason=data.reason, message=data.message
    )


@get("/contacts/requests", dependencies=SIGNED_IN)
async def list_requests(
    viewer: SignedInUser,
    direction: str = "incoming",
    status: str | None = None,
    page: Annotated[int, Parameter(ge=1, le=service.PAGE_MAX)] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=200)] = 50,
) -> list[RequestView]:
    """Incoming or outgoing requests, newest first; `history` is the pair's earlier story
    (requests, acceptances, declines, removals)."""
    if direction not in ("incoming", "outgoing"):
        raise FieldError("direction", N_("Direction is incoming or outgoing."))
    if status is not None and status not in REQUEST_STATUSES:
        raise FieldError("status", N_("Unknown request status."))
    return await service.list_requests(
        viewer, direction, status=status, page=page, per_page=per_page
    )


@post("/contacts/requests/{request_id:int}/accept", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def accept_request(request_id: int, viewer: SignedInUser) -> RequestView:
    """Accept: the two are connected, `online`, with the request's reason kept."""
    return await service.answer_request(viewer, request_id, accept=True)


@post(
    "/contacts/requests/{request_id:int}/decline", status_code=HTTP_200_OK, dependencies=SIGNED_IN
)
async def decline_request(request_id: int, viewer: SignedInUser) -> RequestView:
    """Decline: the sender may not ask again for the cooldown (90 days by default)."""
    return await service.answer_request(viewer, request_id, accept=False)


@delete("/contacts/requests/{request_id:int}", dependencies=SIGNED_IN)
async def withdraw_request(request_id: int, viewer: SignedInUser) -> None:
    """The sender withdraws a pending request."""
    await service.withdraw_request(viewer, request_id)


@get("/contacts", dependencies=SIGNED_IN)
async def list_contacts(
    request: Request[Any, Any, Any],
    viewer: SignedInUser,
    trust: str | None = None,
    q: Annotated[str | None, Parameter(max_length=100)] = None,
    page: Annotated[int, Parameter(ge=1, le=service.PAGE_MAX)] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=200)] = 50,
) -> Response[list[ContactSummary]]:
    """My contacts by name; filter by `trust`, search names with `q`; paginated.

    `X-Total-Count` holds the number of matches and `Link` the next and previous pages.
    """
    found = await service.list_contacts(viewer, trust=trust, search=q, page=page, per_page=per_page)
    links = []
    for relation, target in (("prev", found.page - 1), ("next", found.page + 1)):
        if 1 <= target <= found.pages and found.total:
            query = urlencode({**request.query_params.dict(), "page": [str(target)]}, doseq=True)
            links.append(f'<{request.url.path}?{query}>; rel="{relation}"')
    headers = {"X-Total-Count": str(found.total)}
    if links:
        headers["Link"] = ", ".join(links)
    return Response(found.contacts, headers=headers)


@get("/contacts/{handle:str}", dependencies=SIGNED_IN)
async def read_contact(handle: str, viewer: SignedInUser) -> ContactDetail:
    """One contact with its timeline; a 404 to anyone but the two people."""
    return await service.contact_detail(viewer, handle)


@delete("/contacts/{handle:str}", dependencies=SIGNED_IN)
async def remove_contact(handle: str, viewer: SignedInUser) -> None:
    """Remove a contact; the removal is remembered in the pair's history."""
    await service.remove_contact(viewer, handle)


@post("/contacts/{handle:str}/block", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def block(handle: str, viewer: SignedInUser) -> BlockState:
    """Block someone: no requests or proposals, and you look like nobody to them."""
    await service.block(viewer, handle)
    return BlockState(handle=handle.strip().lstrip("@").lower(), blocked=True)


@delete("/contacts/{handle:str}/block", status_code=HTTP_200_OK, dependencies=SIGNED_IN)
async def unblock(handle: str, viewer: SignedInUser) -> BlockState:
    """Lift a block (the earlier connection does not come back by itself)."""
    await service.unblock(viewer, handle)
    return BlockState(handle=handle.strip().lstrip("@").lower(), blocked=False)


router = Router(
    path="/api/v1",
    route_handlers=[
        send_request,
        list_requests,
        accept_request,
        decline_request,
        withdraw_request,
        list_contacts,
        read_contact,
        remove_contact,
        block,
        unblock,
    ],
    tags=["contacts"],
)
