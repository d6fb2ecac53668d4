"""CPU cost of the benchmarked pages in-process: what one request costs the server, in CPU
milliseconds, whatever else the machine is doing (wall-clock figures on a shared machine are
not that). Calls the app through httpx's ASGI transport, and the feed builder directly.

    python -m bench.cost postgresql://postgres@127.0.0.1:5432/desvirt_bench_small
(after `python -m bench.run --db small --keep`)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench import bare, scenario
from desvirt import database
from desvirt.app import create_app
from desvirt.settings import Settings

ROUNDS = 30


async def measure(dsn: str, settings: Settings) -> dict[str, dict[str, float]]:
    from desvirt.accounts import service as accounts
    from desvirt.calendar import service as calendar

    seeded = scenario.describe(settings)
    engine = database.engine_from_url(dsn)
    database.use_engine(engine)
    await database.connect(engine, pool_max=4)
    app = create_app(settings, engine=engine)
    results: dict[str, dict[str, float]] = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=settings.base_url
        ) as client:
            await client.post(
                "/api/v1/auth/login",
                json={"email": seeded.viewer_email, "password": scenario.BENCH_PASSWORD},
            )
            html = {"Accept": "text/html"}
            feed = await client.get(seeded.feed_path)
            etag = feed.headers.get("etag", "")
            found = await calendar.private_feed_version(
                settings, seeded.feed_path[len("/cal/") : -len(".ics")]
            )
            assert found is not None
            owner = await accounts.user_by_id(found.owner_id)
            assert owner is not None

            async def bare_healthz() -> Any:
                return await client.get("/healthz")

            ceiling = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bare.create_app()), base_url=settings.base_url
            )
            cases: dict[str, Callable[[], Awaitable[Any]]] = {
                "bare Litestar endpoint (the ceiling)": lambda: ceiling.get("/"),
                "healthz (one query)": bare_healthz,
                "meetup page, 200 attendees": lambda: client.get(seeded.meetup_path, headers=html),
                "feed 200, 300 events": lambda: client.get(seeded.feed_path),
                "feed 304": lambda: client.get(seeded.feed_path, headers={"If-None-Match": etag}),
                "feed built (my_feed only)": lambda: calendar.my_feed(settings, owner),
            }
            for name, call in cases.items():
                for _ in range(3):
                    await call()
                cpu, wall = [], []
                for _ in range(ROUNDS):
                    started_cpu, started_wall = time.process_time(), time.perf_counter()
                    await call()
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    wall.append((time.perf_counter() - started_wall) * 1000)
                results[name] = {
                    "cpu_ms_p50": round(statistics.median(cpu), 2),
                    "wall_ms_p50": round(statistics.median(wall), 2),
                }
            await ceiling.aclose()
    finally:
        await database.disconnect(engine)
    return results


if __name__ == "__main__":
    from bench.run import APP_PORT, SECRET

    target = sys.argv[1]
    settings = Settings(
        database_url=target, secret_key=SECRET, base_url=f"http://127.0.0.1:{APP_PORT}"
    )
    print("| in-process, one at a time | CPU ms (p50) | bare CPU / this CPU | wall ms (p50) |")
    print("|---|---:|---:|---:|")
    measured = asyncio.run(measure(target, settings))
    floor = next(iter(measured.values()))["cpu_ms_p50"]
    for case, figures in measured.items():
        share = floor / figures["cpu_ms_p50"] if figures["cpu_ms_p50"] else 0
        print(f"| {case} | {figures['cpu_ms_p50']} | {share:.3f} | {figures['wall_ms_p50']} |")
