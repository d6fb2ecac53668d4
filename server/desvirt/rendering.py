"""What every page template receives: the viewer, their language and translation functions."""

from __future__ import annotations

import html
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import MediaType, Request, Response
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from desvirt.accounts.auth import _VIEWER, current_viewer
from desvirt.i18n import format_when, language_name, negotiate, translations
from desvirt.settings import SUPPORTED_LOCALES

LANGUAGE_COOKIE = "desvirt_lang"
PUBLIC_PAGES = "desvirt_public_pages"
NOTICES = "notices"  # session key of notice_after_redirect
# Stands for the visitor's CSRF token in a shared rendering; random so no text can forge it.
_CSRF_MARK = f"csrf-{secrets.token_hex(16)}"

PUBLIC_VARY = "Cookie, Accept-Language"

PublicPageBuild = Callable[[], Awaitable[tuple[str, dict[str, Any]]]]


def request_locale(request: Request[Any, Any, Any]) -> str:
    """The profile's language, else the one chosen on this browser, else Accept-Language."""
    viewer = request.state.get(_VIEWER)
    if viewer is not None and viewer.locale in SUPPORTED_LOCALES:
        return str(viewer.locale)
    return visitor_locale(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )


def visitor_locale(chosen: str | None, accept_language: str | None) -> str:
    """Without a profile: the language chosen on this browser, else Accept-Language."""
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return negotiate(accept_language)


def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Context shared by all pages; uses only what the request already knows (no queries)."""
    locale = request_locale(request)
    catalog = translations(locale)
    viewer = request.state.get(_VIEWER)
    zone = viewer.timezone if viewer is not None else "UTC"

    def translate(message: str, **params: object) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    def translate_count(singular: str, plural: str, count: int, **params: object) -> str:
        """The form of the message for `count` in this language ("1 seat", "2 seats")."""
        return catalog.ngettext(singular, plural, count) % {"count": count, **params}

    def when(moment: datetime, timezone: str | None = None, style: str = "medium") -> str:
        return format_when(moment, timezone or zone, locale, style)

    def until(start: datetime, end: datetime, timezone: str | None = None) -> str:
        """The end of a span: its time alone when it ends on the day it starts."""
        local = ZoneInfo(timezone or zone)
        same_day = start.astimezone(local).date() == end.astimezone(local).date()
        return format_when(end, timezone or zone, locale, "time" if same_day else "medium")

    return {
        "viewer": viewer,
        "locale": locale,
        "_": translate,
        "gettext": catalog.gettext,
        "ngettext": translate_count,
        "when": when,
        "until": until,
        "languages": [(code, language_name(code)) for code in SUPPORTED_LOCALES],
        "current_path": request.url.path,
    }


async def render(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Template:
    """Render a page for whoever asks, in their language, with notices left for them."""
    await current_viewer(request)
    return Template(
        template,
        context={**page_context(request), "notices": take_notices(request), **context},
        status_code=status_code,
    )


def notice_after_redirect(request: Request[Any, Any, Any], text: str) -> None:
    """Say something on the next page this person sees (the one a form redirects to).

    Kept in their session, so it works whichever process serves that page; people without a
    session (visitors) are not told, as nothing of theirs is kept.
    """
    session = request.scope.get("session")
    if isinstance(session, dict) and session:
        session[NOTICES] = [*session.get(NOTICES, []), text]


def take_notices(request: Request[Any, Any, Any]) -> list[str]:
    session = request.scope.get("session")
    if isinstance(session, dict) and NOTICES in session:
        return list(session.pop(NOTICES))
    return []


async def render_public(
    request: Request[Any, Any, Any], key: Hashable, build: PublicPageBuild
) -> Response[bytes]:
    """A page for someone not signed in: rendered once and shared for a few seconds.

    Every visitor without a session sees the same page in a given language (a popular
    meetup's page is asked for by many at once), so it is rendered once per language into
    `PublicPages` and each visitor gets it with their own CSRF token put back in. `build`
    returns the template and its context; it may raise (a 404 is never kept).
    """
    pages: PublicPages = request.app.state[PUBLIC_PAGES]
    locale = request_locale(request)
    body = pages.get((key, locale))
    if body is None:
        await current_viewer(request)
        template, context = await build()
        body = render_marked(request, template, context)
        pages.put((key, locale), body)
    return Response(
        with_csrf_token(body, request_csrf_token(request)),
        media_type=MediaType.HTML,
        headers={"Vary": PUBLIC_VARY},
    )


def render_marked(request: Request[Any, Any, Any], template: str, context: dict[str, Any]) -> bytes:
    """A page to keep: its forms carry a mark where `with_csrf_token` puts each reader's."""
    environment = request.app.template_engine.engine  # type: ignore[union-attr]
    text = environment.get_template(template).render(
        {
            **page_context(request),
            **context,
            "request": request,
            "csrf_input": f'<input type="hidden" name="_csrf_token" value="{_CSRF_MARK}" />',
        }
    )
    return text.encode()


def request_csrf_token(request: Request[Any, Any, Any]) -> str:
    """The CSRF token Litestar's middleware gave this request (its cookie's, or a new one)."""
    return value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")


def with_csrf_token(body: bytes, token: str) -> bytes:
    """A shared rendering with this visitor's CSRF token in its forms."""
    return body.replace(_CSRF_MARK.encode(), html.escape(token).encode())


class PublicPages:
    """Rendered public pages of this process, each kept `seconds` (0 keeps none).

    Nothing here is the truth: the database is. Another process holds its own copies, so
    a change reaches every visitor who is not signed in within `seconds`.
    """

    def __init__(
        self, seconds: float, max_pages: int = 512, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.max_pages = max_pages
        self.clock = clock
        self._pages: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        kept = self._pages.get(key)
        if kept is None:
            return None
        if kept[0] <= self.clock():
            del self._pages[key]
            return None
        return kept[1]

    def put(self, key: Hashable, body: bytes) -> None:
        if self.seconds <= 0:
            return
        self._pages[key] = (self.clock() + self.seconds, body)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
