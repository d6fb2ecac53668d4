"""A calendar app polling an unchanged feed costs no query, and never misses a change.

On PostgreSQL each process keeps the feed versions it has read and forgets them when a
trigger's NOTIFY says a feed may have changed, from whichever process or tool wrote. On
SQLite nothing is kept: every conditional GET reads the version (one query).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import icalendar
import pytest
from litestar import Litestar

from desvirt.calendar.service import CANCELLED_KEPT_DAYS, PAST_DAYS, private_feed_version
from desvirt.calendar.versions import CHANNEL, FEED_VERSIONS, FeedVersions
from desvirt.changes import LISTENER_NAME, ChangeReceiver, listening, wait_listening
from desvirt.settings import Settings
from tests.api.test_calendar_feeds import NOW, answer, feed_path, meetup, soon, user
from tests.conftest import Backend, ClientFactory, QueryLog, SignUp


@pytest.fixture
async def versions(app: Litestar, db: Backend) -> AsyncIterator[FeedVersions]:
    """The app's kept versions, with its listener running as `desvirt serve` runs it."""
    kept: FeedVersions = app.state[FEED_VERSIONS]
    async with listening_as_served(db, CHANNEL, kept):
        yield kept


@contextlib.asynccontextmanager
async def listening_as_served(
    db: Backend, channel: str, receiver: ChangeReceiver
) -> AsyncIterator[None]:
    """The app's listener on `channel`, connected, as `desvirt serve` runs it (on PostgreSQL;
    SQLite has none)."""
    async with listening(db.url if db.name == "postgres" else None, {channel: receiver}):
        if db.name == "postgres":
            await wait_listening(receiver)
        yield


async def test_an_unchanged_feed_poll_costs_no_query_on_postgresql(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    versions: FeedVersions,
    queries: QueryLog,
    db: Backend,
) -> None:
    await sign_up(client, "lucia")
    await meetup(await user("lucia"), "tapas")
    path = await feed_path(client)
    full = await client.get(path)
    etag = full.headers["etag"]

    queries.clear()
    first_poll = await poll(client, path, etag)
    second_poll = await poll(client, path, etag)

    for response in (first_poll, second_poll):
        assert response.status_code == 304
        assert response.content == b""
        for header in ("etag", "last-modified", "cache-control"):
            assert response.headers[header] == full.headers[header]
        assert response.headers["x-request-id"]
    if db.name == "postgres":
        assert queries.count == 0  # the version the 200 read is kept
    else:
        assert queries.count == 2  # SQLite has no NOTIFY: every poll reads the version
        assert len(versions) == 0

    metrics = (await client.get("/metrics")).text
    assert 'route="/cal/{feed_name}",status="304"' in metrics  # counted as Litestar counts it
    assert "feed_name:" not in metrics


async def test_changes_reach_the_next_poll_and_others_changes_do_not(
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    versions: FeedVersions,
) -> None:
    await sign_up(client, "lucia")
    await meetup(await user("lucia"), "tapas")
    path, etag = await polled(client)

    async with change_heard(versions):
        await meetup(await user("lucia"), "vermut")  # lucia hosts a second one
    changed = await poll(client, path, etag)
    assert changed.status_code == 200
    assert {str(event["SUMMARY"]) for event in parse_events(changed.content)} == {
        "Tapas",
        "Vermut",
    }

    etag = changed.headers["etag"]
    assert (await poll(client, path, etag)).status_code == 304
    pablo = await new_client()
    await sign_up(pablo, "pablo")
    async with change_heard(versions):  # pablo's answer is in pablo's feed, not lucia's
        rsvp = await pablo.post("/api/v1/meetups/vermut/rsvp", json={"response": "yes"})
        assert rsvp.status_code in (200, 201), rsvp.text
    assert (await poll(client, path, etag)).status_code == 304

    async with change_heard(versions):
        cancel = await client.post("/api/v1/meetups/vermut/cancel")
        assert cancel.status_code == 200, cancel.text
    cancelled = await poll(client, path, etag)
    assert cancelled.status_code == 200
    statuses = {
        str(e["URL"]).rsplit("/", 1)[1]: str(e["STATUS"]) for e in parse_events(cancelled.content)
    }
    assert statuses == {"tapas": "CONFIRMED", "vermut": "CANCELLED"}


async def test_a_host_edit_written_by_another_process_reaches_attendees_feeds(
    client: httpx.AsyncClient, sign_up: SignUp, versions: FeedVersions, db: Backend
) -> None:
    await sign_up(client, "pablo")
    await sign_up(client, "lucia")  # the client is now lucia's
    tapas = await meetup(await user("pablo"), "tapas")
    await answer(tapas, await user("lucia"), "going")
    path, etag = await polled(client)

    async with change_heard(versions):
        await write_elsewhere(
            db,
            "UPDATE meetup SET title = 'Tapas, moved', sequence = 1, updated_at = now() "
            "WHERE id = $1",
            tapas.id,
        )
    changed = await poll(client, path, etag)
    assert changed.status_code == 200
    [event] = parse_events(changed.content)
    assert str(event["SUMMARY"]) == "Tapas, moved"
    assert event["SEQUENCE"] == 1


async def test_a_rotated_token_answers_404_even_to_a_poll_that_was_kept(
    client: httpx.AsyncClient, sign_up: SignUp, versions: FeedVersions
) -> None:
    await sign_up(client, "lucia")
    await meetup(await user("lucia"), "tapas")
    path, etag = await polled(client)

    async with change_heard(versions):
        assert (await client.post("/api/v1/me/feed-token")).status_code == 200
    assert (await poll(client, path, etag)).status_code == 404


async def test_while_the_listener_is_lost_polls_read_the_database_and_then_it_returns(
    client: httpx.AsyncClient,
    sign_up: SignUp,
    versions: FeedVersions,
    queries: QueryLog,
    db: Backend,
) -> None:
    if db.name != "postgres":
        pytest.skip("only PostgreSQL has a listener")
    await sign_up(client, "lucia")
    await meetup(await user("lucia"), "tapas")
    path, etag = await polled(client)

    await write_elsewhere(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database()",
        LISTENER_NAME,
    )
    await until(lambda: not versions.listening)
    assert len(versions) == 0
    queries.clear()
    assert (await poll(client, path, etag)).status_code == 304
    assert queries.count == 1  # nothing kept while a change could go unheard

    await wait_listening(versions)
    queries.clear()
    assert (await poll(client, path, etag)).status_code == 304
    assert (await poll(client, path, etag)).status_code == 304
    assert queries.count == 1


async def test_a_version_is_kept_until_the_first_event_leaves_the_window(
    client: httpx.AsyncClient, sign_up: SignUp, settings: Settings
) -> None:
    await sign_up(client, "lucia")
    lucia = await user("lucia")
    old_end = NOW - timedelta(days=100)
    await meetup(lucia, "old-tapas", starts_at=old_end - timedelta(hours=2), ends_at=old_end)
    cancelled_at = NOW - timedelta(days=10)
    await meetup(lucia, "cancelled", status="cancelled", cancelled_at=cancelled_at)
    await meetup(lucia, "next-tapas", starts_at=soon())
    token = (await client.get("/api/v1/me")).json()["feed_url"].rsplit("/", 1)[1][:-4]

    found = await private_feed_version(settings, token)
    assert found is not None
    assert found.valid_until == min(
        old_end + timedelta(days=PAST_DAYS), cancelled_at + timedelta(days=CANCELLED_KEPT_DAYS)
    )


async def polled(client: httpx.AsyncClient) -> tuple[str, str]:
    """A calendar app subscribed to the client's feed: its first poll got 200, its next 304."""
    path = await feed_path(client)
    etag = (await client.get(path)).headers["etag"]
    assert (await poll(client, path, etag)).status_code == 304
    return path, etag


async def poll(client: httpx.AsyncClient, path: str, etag: str) -> httpx.Response:
    return await client.get(path, headers={"If-None-Match": etag})


def parse_events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


async def write_elsewhere(db: Backend, sql: str, *args: object) -> None:
    """A write from outside this app (another process, psql, a script): PostgreSQL only."""
    if db.name != "postgres":
        pytest.skip("only PostgreSQL tells other processes about changes")
    connection = await asyncpg.connect(db.url)
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def change_heard(versions: FeedVersions) -> AsyncIterator[None]:
    """Let the notification the write inside sends on commit arrive (none on SQLite)."""
    seen = versions.generation
    yield
    if versions.listening:
        await until(lambda: versions.generation > seen)


async def until(condition: object, within_seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_seconds
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "it did not happen in time"
        await asyncio.sleep(0.01)
