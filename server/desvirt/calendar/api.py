"""iCalendar feeds: `/cal/{feed_token}.ics`, `/cal/public.ics` (and `/m/{slug}.ics`)."""

from litestar import Router

router = Router(path="/", route_handlers=[], tags=["calendar"])
