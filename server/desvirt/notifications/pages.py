"""Pages reached from mail: the per-meetup unsubscribe link."""

from litestar import Router

router = Router(path="/", route_handlers=[], include_in_schema=False)
