"""Pages for meeting in person: the meetup checklist, handshake codes, met confirmations."""

from litestar import Router

router = Router(path="/", route_handlers=[], include_in_schema=False)
