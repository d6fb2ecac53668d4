"""Pages reached from mail: the per-meetup unsubscribe link.

The link carries a signature of (person, meetup) made with the instance secret, so it
works without logging in and cannot be forged for someone else. GET asks, POST does it
(mail providers' one-click unsubscribe, RFC 8058, POSTs to the same URL).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Template

from desvirt.dependencies import InstanceSettings
from desvirt.errors import NotFound
from desvirt.i18n import N_
from desvirt.notifications import service
from desvirt.rendering import render

UNSUBSCRIBE_PATH = "/unsubscribe/{user_id:int}/{meetup_id:int}/{token:str}"


@get(UNSUBSCRIBE_PATH)
async def unsubscribe_page(
    request: Request[Any, Any, Any],
    settings: InstanceSettings,
    user_id: int,
    meetup_id: int,
    token: str,
) -> Template:
    """Asks before stopping the mail about one meetup."""
    target = await _target(settings, user_id, meetup_id, token)
    return await render(
        request,
        "notifications/unsubscribe.html",
        title=target["title"],
        done=target["done"],
        action=request.url.path,
    )


@post(UNSUBSCRIBE_PATH, status_code=200)
async def unsubscribe(
    request: Request[Any, Any, Any],
    settings: InstanceSettings,
    user_id: int,
    meetup_id: int,
    token: str,
) -> Template:
    """Stops the mail about one meetup, queued mail included."""
    target = await _target(settings, user_id, meetup_id, token)
    await service.unsubscribe(user_id, meetup_id)
    return await render(
        request, "notifications/unsubscribe.html", title=target["title"], done=True, action=""
    )


async def _target(settings: Any, user_id: int, meetup_id: int, token: str) -> dict[str, Any]:
    target = await service.unsubscription_target(settings, user_id, meetup_id, token)
    if target is None:
        raise NotFound(N_("This link is not valid."))
    return target


router = Router(path="/", route_handlers=[unsubscribe_page, unsubscribe], include_in_schema=False)
