"""iCalendar feeds: `/cal/{feed_token}.ics`, `/cal/public.ics` and `/m/{slug}.ics`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router

from desvirt.errors import NotFound


async def meetup_feed_response(request: Request[Any, Any, Any], slug: str) -> Response[bytes]:
    """`GET /m/{slug}.ics`: the meetup pages' handler hands `.ics` paths to this."""
    raise NotFound("No such meetup.")


router = Router(path="/", route_handlers=[], tags=["calendar"])
