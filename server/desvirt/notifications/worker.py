"""The mail worker: a background task in every app process that sends due outbox rows.

Several processes may run it at once; `service.claim_due` makes sure each row goes out
once. It polls (mail is not latency-critical, and polling needs no extra infrastructure)
and stops cleanly with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from desvirt.notifications import service
from desvirt.settings import Settings

log = logging.getLogger("desvirt.mail")

POLL_SECONDS = 5.0


async def run(settings: Settings, stop: asyncio.Event, poll_seconds: float = POLL_SECONDS) -> None:
    """Send what is due, then wait; until `stop` is set."""
    while not stop.is_set():
        try:
            while await service.send_due(settings) and not stop.is_set():
                pass  # a full batch went out: there may be more due right now
        except Exception:  # the worker must outlive a database hiccup; it tries again
            log.exception("the mail worker failed a round; trying again shortly")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll_seconds)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[None]:
    """Run the worker for the lifetime of the app."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop), name="desvirt-mail-worker")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
