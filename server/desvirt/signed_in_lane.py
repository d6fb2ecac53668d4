"""A short way for a signed-in person reopening a meetup page nothing has changed on.

The page a signed-in viewer gets is theirs alone (their answer, their contacts among the
people going, the host's buttons), so it cannot be shared like a visitor's. But people
reload it, come back to it from their calendar, and keep it open on their phone: once a
process has rendered it, `SignedInPages` keeps it under the browser's session, and this
ASGI layer answers the next plain GET from it, before Litestar, with no query.

A kept page goes when anything it shows may have changed: on commit of a write to a
meetup or its answers, invitations, time options or votes, to a relationship involving
the viewer (contacts, their history, requests, blocks, handshakes), to the viewer's own
settings or to their session, PostgreSQL NOTIFYs `desvirt_pages` with what the write
concerns (`m:<meetup id>`, `u:<user id>`, `s:<session>`; `*` for a person's new name),
from whichever process or tool wrote (the met migrations of 2026-11-26), and each process
forgets the pages concerned. A page also goes when the meetup begins or ends, and after
`DESVIRT_SIGNED_IN_PAGE_SECONDS` at most.

Your own change is shown at once, even before the notification arrives: every write
request made with a session cookie gets a new `desvirt_writes` cookie, which is part of
the key a page is kept under. Nothing is kept unless the process listens (not on SQLite).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from litestar import MediaType, Request, Response
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from desvirt.accounts.auth import current_viewer
from desvirt.csrf import CsrfCookie
from desvirt.public_lane import (
    MEETUP_ROUTE,
    browser_of,
    meetup_slug,
    request_cookies,
    send_kept_page,
)
from desvirt.rendering import (
    LANGUAGE_COOKIE,
    render_marked,
    request_csrf_token,
    take_notices,
    with_csrf_token,
)

CHANNEL = "desvirt_pages"
SIGNED_IN_PAGES = "desvirt_signed_in_pages"  # where the app keeps its SignedInPages
WRITES_COOKIE = "desvirt_writes"
# Where the lane leaves, in the request's state, the key a page may be kept under.
KEEP_AS = "desvirt_keep_as"
KEPT_BYTES_AT_MOST = 64 * 1024 * 1024
KEPT_CHANGES_AT_MOST = 100_000  # concerns whose last change is remembered, at most
SESSION_STORE = "sessions"  # the namespace of session rows in store_entry
_READS = ("GET", "HEAD", "OPTIONS")


class SignedInPages:
    """Pages rendered for signed-in viewers in this process, while it is listening.

    Each page is kept with what it concerns (`m:<meetup id>`, `u:<viewer id>`,
    `s:<session>`): a notification of one of those forgets it, `*` (or anything else)
    forgets every page.
    """

    def __init__(
        self,
        seconds: float,
        max_bytes: int = KEPT_BYTES_AT_MOST,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.clock = clock
        self.listening = False
        self.generation = 0  # moves on every notification
        self._pages: OrderedDict[Hashable, KeptPage] = OrderedDict()
        self._keys_by_concern: dict[str, set[Hashable]] = {}
        self._bytes = 0
        # When each concern last changed, and everything: a page read before then is stale.
        self._changed_at: dict[str, int] = {}
        self._everything_changed_at = 0

    def get(self, key: Hashable) -> bytes | None:
        kept = self._pages.get(key)
        if kept is None or not self.listening:
            return None
        if kept.valid_until <= self.clock():
            self._drop(key)
            return None
        self._pages.move_to_end(key)
        return kept.body

    def keep(
        self,
        key: Hashable,
        body: bytes,
        valid_until: float,
        read_at: int,
        concerns: tuple[str, ...] = (),
    ) -> None:
        """Keep a page read at generation `read_at`, unless what it concerns changed since."""
        if not self.listening or self.seconds <= 0 or self._changed_since(read_at, concerns):
            return
        valid_until = min(valid_until, self.clock() + self.seconds)
        self._drop(key)
        self._pages[key] = KeptPage(valid_until, body, concerns)
        for concern in concerns:
            self._keys_by_concern.setdefault(concern, set()).add(key)
        self._bytes += len(body)
        while self._bytes > self.max_bytes and self._pages:
            self._drop(next(iter(self._pages)))

    def changed(self, payload: str) -> None:
        """A notification: `m:<id>`, `u:<id>` or `s:<hash>` forgets the pages it concerns;
        `*` (and anything not understood) every page."""
        self.generation += 1
        if payload[:2] in ("m:", "u:", "s:") and len(payload) > 2:
            if len(self._changed_at) >= KEPT_CHANGES_AT_MOST:
                self._everything_changed_at = self.generation  # forget the details, safely
                self._changed_at.clear()
            self._changed_at[payload] = self.generation
            for key in list(self._keys_by_concern.get(payload, ())):
                self._drop(key)
        else:
            self._everything_changed_at = self.generation
            self._forget_all()

    def start_listening(self) -> None:
        self._forget_all()
        self.generation += 1
        self._everything_changed_at = self.generation
        self.listening = True

    def stop_listening(self) -> None:
        self.listening = False
        self.generation += 1
        self._everything_changed_at = self.generation
        self._forget_all()

    def __len__(self) -> int:
        return len(self._pages)

    def _changed_since(self, read_at: int, concerns: tuple[str, ...]) -> bool:
        if self._everything_changed_at > read_at:
            return True
        return any(self._changed_at.get(concern, 0) > read_at for concern in concerns)

    def _drop(self, key: Hashable) -> None:
        kept = self._pages.pop(key, None)
        if kept is None:
            return
        self._bytes -= len(kept.body)
        for concern in kept.concerns:
            keys = self._keys_by_concern.get(concern)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_concern[concern]

    def _forget_all(self) -> None:
        self._pages.clear()
        self._keys_by_concern.clear()
        self._changed_at.clear()
        self._bytes = 0


@dataclass(frozen=True)
class KeptPage:
    valid_until: float  # time.time()
    body: bytes
    concerns: tuple[str, ...]


def page_concerns(meetup_id: int, viewer_id: int, session_id: str) -> tuple[str, ...]:
    """What a signed-in viewer's meetup page shows, as the triggers name it (see the met
    migration of 2026-11-26T07:00): the meetup, the viewer, their session."""
    session_key = f"{SESSION_STORE}:{session_id}"
    return (
        f"m:{meetup_id}",
        f"u:{viewer_id}",
        f"s:{hashlib.md5(session_key.encode(), usedforsecurity=False).hexdigest()}",
    )


class SignedInPageLane:
    """Answers signed-in viewers' plain GETs of meetup pages from `SignedInPages`."""

    def __init__(
        self, app: ASGIApp, csrf_cookie: CsrfCookie, session_cookie: str, secure: bool
    ) -> None:
        self.app = app
        self.csrf_cookie = csrf_cookie
        self.session_cookie = session_cookie
        self.writes_cookie = (
            f"{WRITES_COOKIE}={{}}; Path=/; HttpOnly; SameSite=Lax{'; Secure' if secure else ''}"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            http = cast(HTTPScope, scope)
            if http["method"] == "GET":
                if await self._answer(http, send):
                    return
            elif http["method"] not in _READS and self._session_of(http) is not None:
                send = self._with_new_writes_mark(send)
        await self.app(scope, receive, send)

    async def _answer(self, scope: HTTPScope, send: Send) -> bool:
        slug = meetup_slug(scope["path"])
        if slug is None or scope["query_string"]:
            return False
        pages: SignedInPages = scope["litestar_app"].state[SIGNED_IN_PAGES]
        if not pages.listening or pages.seconds <= 0:
            return False  # nothing would be kept: leave the request to Litestar as it is
        browser = browser_of(scope)
        if browser is None:
            return False
        cookies, accept_language = browser
        session = cookies.get(self.session_cookie, "null")
        if session == "null":
            return False
        key = (
            slug,
            session,
            cookies.get(WRITES_COOKIE, ""),
            cookies.get(LANGUAGE_COOKIE, ""),
            accept_language,
        )
        body = pages.get(key)
        if body is None:
            # Litestar renders it; the handler may keep it under this key (`render_kept`).
            state = cast(dict[str, Any], scope).setdefault("state", {})
            state[KEEP_AS] = (key, pages.generation)
            return False
        await send_kept_page(scope, send, MEETUP_ROUTE, body, self.csrf_cookie, cookies, [])
        return True

    def _session_of(self, scope: HTTPScope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                session = request_cookies(value.decode("latin-1")).get(self.session_cookie)
                if session and session != "null":
                    return session
        return None

    def _with_new_writes_mark(self, send: Send) -> Send:
        """Send, with a new `desvirt_writes` cookie on the response: this browser's next
        page view is rendered afresh, whichever process serves it."""
        cookie = self.writes_cookie.format(secrets.token_urlsafe(9)).encode("latin-1")

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"set-cookie", cookie)]
                message = {**message, "headers": headers}
            await send(message)

        return send_marked


async def render_kept(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any],
    *,
    changes_at: datetime | None,
    meetup_id: int,
) -> Response[bytes]:
    """Render a signed-in viewer's page, and keep it if the lane asked (`KEEP_AS`).

    `changes_at` is when time alone will change the page (a meetup beginning); a page with
    notices taken from the session is shown once and not kept.
    """
    viewer = await current_viewer(request)
    notices = take_notices(request)
    body = render_marked(request, template, {**context, "notices": notices})
    keep_as = request.state.get(KEEP_AS)
    if keep_as is not None and not notices and viewer is not None:
        key, read_at = keep_as
        pages: SignedInPages = request.app.state[SIGNED_IN_PAGES]
        valid_until = changes_at.timestamp() if changes_at is not None else float("inf")
        concerns = page_concerns(meetup_id, viewer.id, key[1])
        pages.keep(key, body, valid_until, read_at, concerns)
    return Response(with_csrf_token(body, request_csrf_token(request)), media_type=MediaType.HTML)
