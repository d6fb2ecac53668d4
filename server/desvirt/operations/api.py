"""`GET /metrics`: Prometheus text format. Keep it off the public internet (see deploy/)."""

from __future__ import annotations

import logging

from litestar import Response, get

from desvirt.operations import metrics

log = logging.getLogger("desvirt.operations")


@get("/metrics", include_in_schema=False)
async def read_metrics() -> Response[bytes]:
    return Response(
        metrics.exposition(await outbox_depth()),
        media_type=metrics.CONTENT_TYPE,
    )


async def outbox_depth() -> int:
    """Unsent mails, as the notifications feature counts them (0 until it has an outbox)."""
    from desvirt.notifications import service

    count = getattr(service, "outbox_depth", None)
    if count is None:
        return 0
    try:
        return int(await count())
    except Exception:  # a scrape must answer even when the database does not
        log.warning("could not count the outbox for /metrics", exc_info=True)
        return -1
