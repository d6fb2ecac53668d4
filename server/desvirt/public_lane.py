"""A short way for the busiest request there is: a visitor opening a shared meetup link.

Such a visitor has no session, and the page they get is already rendered in `PublicPages`
(`render_public` put it there). This ASGI layer, in front of Litestar's router, answers
them from it directly, with the same headers and their own CSRF token and cookie, as
Litestar's CSRF middleware would. Everything else (a session cookie, a bearer token, a
query string, any other path or method, a page not yet kept) goes to Litestar untouched.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from desvirt.csrf import CsrfCookie
from desvirt.rendering import (
    LANGUAGE_COOKIE,
    PUBLIC_PAGES,
    PUBLIC_VARY,
    PublicPages,
    visitor_locale,
    with_csrf_token,
)

HOME_ROUTE, MEETUP_ROUTE = "/", "/m/{slug}"
HOME_PAGE = "home"


def meetup_page_key(slug: str, notice: str | None = None) -> Hashable:
    """Where `PublicPages` keeps a meetup page (with the notice a redirect asked for)."""
    return ("meetup", slug, notice)


class PublicPageLane:
    """Serves kept public pages to visitors without a session, before Litestar routes."""

    def __init__(self, app: ASGIApp, csrf_cookie: CsrfCookie, session_cookie: str) -> None:
        self.app = app
        self.csrf_cookie = csrf_cookie
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            http = cast(HTTPScope, scope)
            route_and_key = public_page(http["path"])
            if (
                route_and_key is not None
                and http["method"] == "GET"
                and not http["query_string"]
                and await self._answer(http, send, *route_and_key)
            ):
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: HTTPScope, send: Send, route: str, key: Hashable) -> bool:
        pages: PublicPages = scope["litestar_app"].state[PUBLIC_PAGES]
        if pages.seconds <= 0:
            return False
        browser = browser_of(scope)
        if browser is None:
            return False
        cookies, accept_language = browser
        if cookies.get(self.session_cookie, "null") != "null":
            return False
        locale = visitor_locale(cookies.get(LANGUAGE_COOKIE), accept_language or None)
        body = pages.get((key, locale))
        if body is None:
            return False
        await send_kept_page(
            scope, send, route, body, self.csrf_cookie, cookies, [(b"vary", PUBLIC_VARY.encode())]
        )
        return True


async def send_kept_page(
    scope: HTTPScope,
    send: Send,
    route: str,
    body: bytes,
    csrf_cookie: CsrfCookie,
    cookies: dict[str, str],
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Answer with a kept page, its forms carrying this browser's CSRF token (a new one,
    and its cookie, if it has none), as Litestar and its CSRF middleware would have."""
    headers = [(b"content-type", b"text/html; charset=utf-8"), *headers]
    token = cookies.get(csrf_cookie.name)
    if not token:
        token = csrf_cookie.new_token()
        headers.append((b"set-cookie", csrf_cookie.header(token).encode("latin-1")))
    page = with_csrf_token(body, token)
    headers.append((b"content-length", str(len(page)).encode()))
    scope["path_template"] = route  # so logs and metrics name the route as Litestar does
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": page, "more_body": False})


def public_page(path: str) -> tuple[str, Hashable] | None:
    """The route and `PublicPages` key a path's page is kept under by its handler, if any."""
    if path == "/":
        return HOME_ROUTE, HOME_PAGE
    slug = meetup_slug(path)
    if slug is not None:
        return MEETUP_ROUTE, meetup_page_key(slug)
    return None


def meetup_slug(path: str) -> str | None:
    """The slug of a meetup page's path (`/m/{slug}`, not its `.ics` nor a page below it)."""
    if path.startswith("/m/"):
        slug = path[3:]
        if slug and "/" not in slug and not slug.endswith(".ics"):
            return slug
    return None


def browser_of(scope: HTTPScope) -> tuple[dict[str, str], str] | None:
    """A browser's cookies and Accept-Language ("" without); None for a bearer token's
    request, which a lane leaves to Litestar."""
    cookies: dict[str, str] = {}
    accept_language = ""
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies.update(request_cookies(value.decode("latin-1")))
        elif name == b"accept-language":
            accept_language = value.decode("latin-1")
        elif name == b"authorization":
            return None
    return cookies, accept_language


def request_cookies(header: str) -> dict[str, str]:
    """The cookies of one Cookie header, by name (as Litestar reads them, for our own)."""
    found = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value.strip('"')
    return found
