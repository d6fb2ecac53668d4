"""Private feeds' versions kept in each process, so a calendar's conditional GET is free.

Calendar apps poll `/cal/{token}.ics` with If-None-Match, and nearly always nothing has
changed. Once a process has read a feed's version from the database it keeps it, and
`FeedVersionLane` answers the next matching poll with 304 before Litestar routes, with no
query. Kept versions are dropped when PostgreSQL says a feed may have changed: triggers
NOTIFY `desvirt_feeds` on commit (see the meetups migration of 2026-11-26) and every
process LISTENs on a connection of its own (desvirt.changes). A version also goes when
time alone would change the feed (its first event leaves the window) and after a day at
most.

Nothing is kept unless the process is listening: on SQLite (no NOTIFY), with
DESVIRT_FEED_LISTENER_URL=off, before the listener is connected, and from the moment it is
lost until it is back (everything kept is forgotten on reconnecting, since notifications
may have been missed meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from desvirt.accounts.service import feed_token_hash
from desvirt.calendar.service import FEED_TOKEN_MAX_LENGTH

CHANNEL = "desvirt_feeds"
FEED_VERSIONS = "feed_versions"  # where the app keeps its FeedVersions, in app.state
FEED_ROUTE = "/cal/{feed_name}"  # as Litestar names the route in path_template
# Against writes no trigger sees (TRUNCATE, a restore with triggers off); most calendar
# apps poll from every few minutes to twice a day, so a day keeps nearly every poll free.
KEPT_AT_MOST_SECONDS = 24 * 3600.0
KEPT_FEEDS = 50_000


@dataclass(frozen=True)
class KeptVersion:
    """What a 304 for one feed needs: the owner (to forget it by), its ETag and headers."""

    owner_id: int
    etag: str
    headers: list[tuple[bytes, bytes]]
    valid_until: float  # time.time()


class FeedVersions:
    """The versions this process has read, by feed token hash, while it is listening."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.listening = False
        self.generation = 0  # moves on every notification: a read older than it is stale
        self._by_token: dict[str, KeptVersion] = {}
        self._token_of_owner: dict[int, str] = {}

    def get(self, token_hash: str) -> KeptVersion | None:
        kept = self._by_token.get(token_hash)
        if kept is None or not self.listening:
            return None
        if kept.valid_until <= self.clock():
            self._drop(token_hash)
            return None
        return kept

    def keep(
        self,
        token_hash: str,
        owner_id: int,
        etag: str,
        headers: list[tuple[bytes, bytes]],
        valid_until: float,
        read_at_generation: int,
    ) -> None:
        """Keep a version read while `generation` was `read_at_generation`, if still so."""
        if not self.listening or read_at_generation != self.generation:
            return
        earlier = self._token_of_owner.get(owner_id)
        if earlier is not None and earlier != token_hash:
            self._drop(earlier)
        if token_hash not in self._by_token and len(self._by_token) >= KEPT_FEEDS:
            self._drop(next(iter(self._by_token)))
        valid_until = min(valid_until, self.clock() + KEPT_AT_MOST_SECONDS)
        self._by_token[token_hash] = KeptVersion(owner_id, etag, headers, valid_until)
        self._token_of_owner[owner_id] = token_hash

    def changed(self, payload: str) -> None:
        """A notification: `u:<user id>` (that user's feed) or `*` (any feed)."""
        self.generation += 1
        if payload.startswith("u:") and payload[2:].isdigit():
            token_hash = self._token_of_owner.get(int(payload[2:]))
            if token_hash is not None:
                self._drop(token_hash)
        else:
            self._forget_all()

    def start_listening(self) -> None:
        self._forget_all()
        self.generation += 1
        self.listening = True

    def stop_listening(self) -> None:
        self.listening = False
        self.generation += 1
        self._forget_all()

    def __len__(self) -> int:
        return len(self._by_token)

    def _drop(self, token_hash: str) -> None:
        kept = self._by_token.pop(token_hash, None)
        if kept is not None and self._token_of_owner.get(kept.owner_id) == token_hash:
            del self._token_of_owner[kept.owner_id]

    def _forget_all(self) -> None:
        self._by_token.clear()
        self._token_of_owner.clear()


class FeedVersionLane:
    """Answers `GET /cal/{token}.ics` with 304 from a kept version, before Litestar routes.

    Only a request whose If-None-Match holds the kept ETag (or `*`) is answered here, with
    the headers the feed handler gives its 304s; anything else goes to Litestar, which
    reads the version from the database and keeps it for next time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            http = cast(HTTPScope, scope)
            path = http["path"]
            if (
                path.startswith("/cal/")
                and path.endswith(".ics")
                and http["method"] == "GET"
                and await self._answer(http, send, path[5:-4])
            ):
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: HTTPScope, send: Send, token: str) -> bool:
        if not token or "/" in token or len(token) > FEED_TOKEN_MAX_LENGTH:
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        if if_none_match is None:
            return False
        versions: FeedVersions = scope["litestar_app"].state[FEED_VERSIONS]
        kept = versions.get(feed_token_hash(token))
        if kept is None or not etag_matches(if_none_match, kept.etag):
            return False
        scope["path_template"] = FEED_ROUTE
        await send({"type": "http.response.start", "status": 304, "headers": kept.headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match header with one ETag."""
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted
