"""Who is asking: a session cookie or a bearer token, resolved once per request."""

from __future__ import annotations

from typing import Any

from litestar import Request

from desvirt.accounts import service
from desvirt.accounts.tables import User
from desvirt.errors import NotAuthenticated
from desvirt.i18n import N_
from desvirt.storage.sessions import ROTATE_KEY

_VIEWER = "desvirt_viewer"


async def current_viewer(request: Request[Any, Any, Any]) -> User | None:
    """The signed-in user, or None; cached on the request so it costs one query at most."""
    state = request.state
    if _VIEWER in state:
        cached: User | None = state[_VIEWER]
        return cached
    viewer: User | None = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        viewer = await service.user_for_api_token(authorization[7:].strip())
        if viewer is None:
            raise NotAuthenticated(N_("This API token is not valid."), code="invalid_token")
    else:
        user_id = request.session.get("user_id") if "session" in request.scope else None
        if isinstance(user_id, int):
            viewer = await service.user_by_id(user_id)
    state[_VIEWER] = viewer
    return viewer


async def provide_viewer(request: Request[Any, Any, Any]) -> User | None:
    return await current_viewer(request)


async def provide_signed_in_viewer(request: Request[Any, Any, Any]) -> User:
    viewer = await current_viewer(request)
    if viewer is None:
        raise NotAuthenticated(N_("Please log in first."))
    return viewer


def start_session(request: Request[Any, Any, Any], user: User) -> None:
    """Sign the user in on this browser, under a fresh session id."""
    request.set_session({"user_id": user.id, ROTATE_KEY: True})
    request.state[_VIEWER] = user


def end_session(request: Request[Any, Any, Any]) -> None:
    request.clear_session()
    request.state[_VIEWER] = None
