"""What every page template receives: the viewer, their language and translation functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.response import Template

from desvirt.accounts.auth import _VIEWER, current_viewer
from desvirt.i18n import format_when, language_name, negotiate, translations
from desvirt.settings import SUPPORTED_LOCALES

LANGUAGE_COOKIE = "desvirt_lang"


def request_locale(request: Request[Any, Any, Any]) -> str:
    """The profile's language, else the one chosen on this browser, else Accept-Language."""
    viewer = request.state.get(_VIEWER)
    if viewer is not None and viewer.locale in SUPPORTED_LOCALES:
        return str(viewer.locale)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    return negotiate(request.headers.get("accept-language"))


def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Context shared by all pages; uses only what the request already knows (no queries)."""
    locale = request_locale(request)
    catalog = translations(locale)
    viewer = request.state.get(_VIEWER)
    zone = viewer.timezone if viewer is not None else "UTC"

    def translate(message: str, **params: object) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

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
        "ngettext": catalog.ngettext,
        "when": when,
        "until": until,
        "languages": [(code, language_name(code)) for code in SUPPORTED_LOCALES],
        "current_path": request.url.path,
    }


async def render(
    request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any
) -> Template:
    """Render a page for whoever asks, in their language."""
    await current_viewer(request)
    return Template(template, context={**page_context(request), **context}, status_code=status_code)
