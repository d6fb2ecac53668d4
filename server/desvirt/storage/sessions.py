"""Server-side sessions that touch the database only when a session actually changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

ROTATE_KEY = "_rotate"
_LOADED = "desvirt.session_loaded"


class DatabaseSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, minus a write on every request.

    Anonymous visitors get no session row; an unchanged session is not rewritten; a
    session marked with `ROTATE_KEY` (at login) moves to a fresh id, against fixation.
    """

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = self.serialize_data(data) if data else None  # type: ignore[literal-required]
        return data

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        cookie_id = connection.cookies.get(self.config.key)
        if (scope_session is Empty or not scope_session) and not cookie_id:
            return  # a visitor without a session: nothing to store, no cookie to clear
        loaded = connection.scope.get(_LOADED)
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        if scope_session is Empty or not scope_session:
            if cookie_id and cookie_id != "null":
                await self.delete(cookie_id, store=store)
                headers.add(
                    "Set-Cookie",
                    Cookie(value="null", key=self.config.key, expires=0, **cookie_params).to_header(
                        header=""
                    ),
                )
            return
        session: dict[str, Any] = dict(scope_session) if isinstance(scope_session, dict) else {}
        rotate = bool(session.pop(ROTATE_KEY, False))
        data = self.serialize_data(session, connection.scope)
        if not rotate and loaded == data and cookie_id:
            return
        session_id = cookie_id if cookie_id and cookie_id != "null" else None
        if rotate or session_id is None:
            if session_id:
                await self.delete(session_id, store=store)
            session_id = self.generate_session_id()
        await self.set(session_id=session_id, data=data, store=store)
        headers.add(
            "Set-Cookie",
            Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header=""),
        )


@dataclass
class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = DatabaseSessionBackend
