"""PostgreSQL tells every app process what changed, so each may keep what it has read.

Triggers NOTIFY on commit (see the migrations of feeds and pages); each process LISTENs
on a connection of its own and hands every notification to whatever keeps things under
that channel (feed versions, signed-in pages). A receiver keeps nothing unless it is
listening: on SQLite (no NOTIFY), with DESVIRT_FEED_LISTENER_URL=off, before the listener
is connected, and from the moment it is lost until it is back (everything kept is
forgotten on reconnecting, since notifications may have been missed meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

import asyncpg

log = logging.getLogger("desvirt.changes")

LISTENER_NAME = "desvirt listener"  # its application_name in pg_stat_activity
PING_SECONDS = 30.0
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


class ChangeReceiver(Protocol):
    """What keeps things read from the database until a notification says they changed."""

    @property
    def listening(self) -> bool: ...

    def changed(self, payload: str) -> None: ...

    def start_listening(self) -> None: ...

    def stop_listening(self) -> None: ...


@contextlib.asynccontextmanager
async def listening(
    dsn: str | None, receivers: Mapping[str, ChangeReceiver]
) -> AsyncIterator[None]:
    """Listen at `dsn` on each channel for its receiver while the app runs; None: keep nothing."""
    if dsn is None:
        yield
        return
    task = asyncio.create_task(_listen(receivers, dsn))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for receiver in receivers.values():
            receiver.stop_listening()


async def wait_listening(receiver: ChangeReceiver, within_seconds: float = 5.0) -> None:
    """For tests and startup checks: until the listener is connected."""
    deadline = time.monotonic() + within_seconds
    while not receiver.listening:
        if time.monotonic() > deadline:
            raise TimeoutError("the listener did not connect")
        await asyncio.sleep(0.01)


async def _listen(receivers: Mapping[str, ChangeReceiver], dsn: str) -> None:
    attempt = 0

    def connected() -> None:
        nonlocal attempt
        attempt = 0

    while True:
        try:
            await _listen_once(receivers, dsn, on_listening=connected)
        except asyncio.CancelledError:
            raise
        except Exception as problem:  # any failure: keep nothing until listening again
            log.warning("not listening for changes (%s); every read asks the database", problem)
        await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
        attempt += 1


async def _listen_once(
    receivers: Mapping[str, ChangeReceiver], dsn: str, on_listening: Callable[[], None]
) -> None:
    """Until the connection is lost: LISTEN, and keep things only meanwhile."""
    connection: asyncpg.Connection = await asyncio.wait_for(
        asyncpg.connect(dsn, server_settings={"application_name": LISTENER_NAME}), 10
    )
    lost = asyncio.Event()
    try:
        connection.add_termination_listener(lambda _: lost.set())
        for channel, receiver in receivers.items():
            await connection.add_listener(channel, _deliver_to(receiver))
        for receiver in receivers.values():
            receiver.start_listening()
        on_listening()
        log.info("listening for changes on %s", ", ".join(receivers))
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_SECONDS)
                continue
            # A silent network can leave a dead connection looking alive; ask.
            await asyncio.wait_for(connection.fetchval("SELECT 1"), 5)
        raise ConnectionError("the listener's connection was closed")
    finally:
        for receiver in receivers.values():
            receiver.stop_listening()
        connection.terminate()


def _deliver_to(receiver: ChangeReceiver) -> Callable[[object, int, str, str], None]:
    def deliver(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        receiver.changed(payload)

    return deliver
