"""iCalendar feeds: `/cal/{feed_token}.ics`, `/cal/public.ics` and `/m/{slug}.ics`.

Each handler asks the service for the feed's version first (one cheap query or none), and
answers 304 when the client already has it; only otherwise is the feed built. Feeds are
served inline as `text/calendar; charset=utf-8` (no attachment disposition: calendar apps
subscribe to them, browsers hand them to the calendar app).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response, Router, get

from desvirt.accounts import service as accounts
from desvirt.accounts.auth import current_viewer
from desvirt.calendar import service
from desvirt.calendar.service import FeedVersion
from desvirt.calendar.versions import FEED_VERSIONS, FeedVersions, etag_matches
from desvirt.errors import NotFound
from desvirt.i18n import N_
from desvirt.meetups import service as meetups
from desvirt.settings import Settings

CALENDAR_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
NO_FEED = N_("No such calendar feed.")


async def meetup_feed_response(request: Request[Any, Any, Any], slug: str) -> Response[bytes]:
    """`GET /m/{slug}.ics`: the meetup pages' handler hands `.ics` paths to this.

    Visibility is the meetup page's: unlisted meetups open by link, contacts-only ones only
    for the people allowed to see them (404 for anyone else, as the page does).
    """
    settings = _settings(request)
    viewer = await current_viewer(request)
    meetup, host = await meetups.visible_meetup(slug, viewer)
    if meetup.starts_at is None or meetup.ends_at is None:
        raise NotFound(N_("This meetup has no fixed time yet."))
    version = service.meetup_feed_version(settings, meetup, viewer)
    cache = (
        "private, no-cache" if meetup.visibility != "public" or viewer else "public, max-age=300"
    )
    if _still_fresh(request, version):
        return _not_modified(version, cache, vary_cookie=True)
    body = service.meetup_feed(settings, meetup, host, viewer)
    return _calendar(body, version, cache, vary_cookie=True)


@get("/cal/public.ics", include_in_schema=True, summary="Upcoming public meetups (iCalendar)")
async def public_feed(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The instance's upcoming public meetups, for anyone to subscribe to."""
    settings = _settings(request)
    version = await service.public_feed_version(settings)
    cache = "public, max-age=300"
    if _still_fresh(request, version):
        return _not_modified(version, cache)
    return _calendar(await service.public_feed(settings), version, cache)


@get("/cal/{feed_name:str}", summary="A user's private feed (iCalendar)")
async def private_feed(request: Request[Any, Any, Any], feed_name: str) -> Response[bytes]:
    """`/cal/{feed_token}.ics`: what the token's owner hosts and answered; 404 once rotated."""
    if not feed_name.endswith(".ics"):
        raise NotFound(NO_FEED)
    settings = _settings(request)
    token = feed_name[: -len(".ics")]
    versions: FeedVersions = request.app.state[FEED_VERSIONS]
    generation = versions.generation
    found = await service.private_feed_version(settings, token)
    if found is None:
        raise NotFound(NO_FEED)
    cache = "private, no-cache"
    if versions.listening:  # else nothing is kept (SQLite, listener down): skip the headers
        versions.keep(
            accounts.feed_token_hash(token),
            found.owner_id,
            found.version.etag,
            [
                (name.lower().encode(), value.encode("latin-1"))
                for name, value in _headers(found.version, cache, vary_cookie=False).items()
            ],
            found.valid_until.timestamp(),
            read_at_generation=generation,
        )
    if _still_fresh(request, found.version):
        return _not_modified(found.version, cache)
    owner = await accounts.user_by_id(found.owner_id)
    if owner is None:  # deleted between the two reads
        raise NotFound(NO_FEED)
    return _calendar(await service.my_feed(settings, owner), found.version, cache)


def _still_fresh(request: Request[Any, Any, Any], version: FeedVersion) -> bool:
    """RFC 9110: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, version.etag)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return _seconds(version.last_modified) <= since
    return False


def _headers(version: FeedVersion, cache: str, vary_cookie: bool) -> dict[str, str]:
    headers = {
        "ETag": version.etag,
        "Last-Modified": format_datetime(_seconds(version.last_modified), usegmt=True),
        "Cache-Control": cache,
    }
    if vary_cookie:
        headers["Vary"] = "Cookie"
    return headers


def _calendar(
    body: bytes, version: FeedVersion, cache: str, vary_cookie: bool = False
) -> Response[bytes]:
    return Response(
        body,
        media_type=CALENDAR_TYPE,
        headers=_headers(version, cache, vary_cookie),
    )


def _not_modified(version: FeedVersion, cache: str, vary_cookie: bool = False) -> Response[bytes]:
    return Response(b"", status_code=304, headers=_headers(version, cache, vary_cookie))


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state["settings"]
    return settings


router = Router(path="/", route_handlers=[public_feed, private_feed], tags=["calendar"])
