"""The contacts pages."""

from litestar import Router

router = Router(path="/", route_handlers=[], include_in_schema=False)
