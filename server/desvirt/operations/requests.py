"""The outermost layer around the app: a request id for every request, one access log line,
and the metrics, for every answer including 404s and errors that never reach a handler."""

from __future__ import annotations

import logging
import os
import time
from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from desvirt.operations import domain, metrics
from desvirt.operations.logs import REQUEST_ID
from desvirt.settings import Settings

log = logging.getLogger("desvirt.access")

ID_HEADER = b"x-request-id"
QUIET_ROUTES = frozenset({"/healthz", "/metrics"})


class RequestObserver:
    """Wraps Litestar's ASGI handler (inside the app, after routing has filled the scope)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = cast(HTTPScope, scope)["method"]
        incoming = next(
            (value.decode("latin-1") for name, value in scope["headers"] if name == ID_HEADER),
            None,
        )
        request_id = domain.acceptable_request_id(incoming) or _new_request_id()
        token = REQUEST_ID.set(request_id)
        path = scope["path"]
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or None
            metrics.observe_request(method, route, status, elapsed)
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            if log.isEnabledFor(level):
                self._log_access(level, scope, method, path, route, status, elapsed, request_id)
            REQUEST_ID.reset(token)

    def _log_access(
        self,
        level: int,
        scope: Scope,
        method: str,
        path: str,
        route: str | None,
        status: int,
        elapsed: float,
        request_id: str,
    ) -> None:
        client = scope.get("client")
        forwarded = [
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
        ]
        shown_path = domain.loggable_path(path, route)
        log.log(
            level,
            "%s %s %s %.1fms",
            method,
            shown_path,
            status,
            elapsed * 1000,
            extra={
                "request_id": request_id,
                "method": method,
                "path": shown_path,
                "route": route or metrics.UNMATCHED_ROUTE,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "client": domain.client_address(
                    client[0] if client else None, forwarded, self.settings.trusted_proxies
                ),
            },
        )


def _new_request_id() -> str:
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID
