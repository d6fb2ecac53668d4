"""How long a calendar feed takes: building 1,000 and 300 events, and answering a 304.

Run: `.venv/bin/python bench/feeds.py` (a fresh SQLite database in a temporary folder), or
with `DESVIRT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/some_empty_db`.
It prints figures; it is a benchmark, not a test. Each figure is the median of several
runs through the whole HTTP handler (in process, no network), plus the pure build time.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
_SCRATCH = tempfile.mkdtemp(prefix="desvirt-bench-")
URL = os.environ.get("DESVIRT_BENCH_DATABASE_URL", f"sqlite:///{_SCRATCH}/bench.db")
os.environ["DESVIRT_DATABASE_URL"] = URL
os.environ.setdefault("DESVIRT_SECRET_KEY", "bench-secret")
os.environ["PICCOLO_CONF"] = "desvirt.piccolo_conf"

import httpx  # noqa: E402

from desvirt import database  # noqa: E402
from desvirt.accounts import service as accounts  # noqa: E402
from desvirt.accounts.tables import User  # noqa: E402
from desvirt.app import create_app  # noqa: E402
from desvirt.calendar import service as calendar  # noqa: E402
from desvirt.meetups.tables import Meetup, Rsvp  # noqa: E402
from desvirt.settings import Settings  # noqa: E402

RUNS = 15
ZONES = ("Europe/Madrid", "America/Bogota", "Europe/Berlin", "Asia/Tokyo", "UTC")


async def person(settings: Settings, handle: str) -> User:
    return await accounts.sign_up(
        settings,
        email=f"{handle}@example.org",
        password="correct horse battery",
        handle=handle,
        display_name=handle.capitalize(),
        timezone="Europe/Madrid",
    )


async def fill(settings: Settings, owner: User, other: User, events: int) -> None:
    """Half hosted by the owner, half answered (going, maybe, waitlisted) by them."""
    now = datetime.now(UTC)
    meetups = [
        Meetup(
            slug=f"{owner.handle}-{index}",
            host=owner.id if index % 2 == 0 else other.id,
            title=f"Cañas #{index}: after-work, networking; tapas",
            description="Nos vemos en **La Latina**.\nTraed tarjetas. " * 3,
            starts_at=now + timedelta(hours=5 * index + 3),
            ends_at=now + timedelta(hours=5 * index + 5),
            timezone=ZONES[index % len(ZONES)],
            venue_name="Bar Pepe",
            venue_address="Calle Mayor 1, Madrid",
            latitude=40.4155,
            longitude=-3.7074,
            sequence=index % 4,
            updated_at=now - timedelta(days=1),
        )
        for index in range(events)
    ]
    for start in range(0, len(meetups), 200):
        await Meetup.insert(*meetups[start : start + 200])
    rows = await Meetup.select(Meetup.id).where(Meetup.host == other.id)
    statuses = ("going", "maybe", "waitlisted")
    answers = [
        Rsvp(
            meetup=row["id"],
            user=owner.id,
            response="yes",
            status=statuses[index % 3],
            waitlist_position=1 if statuses[index % 3] == "waitlisted" else None,
        )
        for index, row in enumerate(rows)
    ]
    for start in range(0, len(answers), 200):
        await Rsvp.insert(*answers[start : start + 200])


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms (min {min(samples) * 1000:.1f})"


async def measure(client: httpx.AsyncClient, settings: Settings, user: User, label: str) -> None:
    token = accounts.feed_token_for_nonce(settings, user.feed_nonce)
    path = f"/cal/{token}.ics"
    first = await client.get(path)
    assert first.status_code == 200, first.text
    events = first.content.count(b"BEGIN:VEVENT")
    full, not_modified, build = [], [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await client.get(path)
        full.append(time.perf_counter() - started)
        assert response.status_code == 200
        started = time.perf_counter()
        response = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        not_modified.append(time.perf_counter() - started)
        assert response.status_code == 304
        started = time.perf_counter()
        await calendar.my_feed(settings, user)
        build.append(time.perf_counter() - started)
    print(f"{label}: {events} events, {len(first.content) / 1024:.0f} KiB")
    print(f"  GET 200 (query + build + send): {median_ms(full)}")
    print(f"  my_feed() alone (query + build): {median_ms(build)}")
    print(f"  GET 304 (If-None-Match):         {median_ms(not_modified)}")


async def main() -> None:
    settings = Settings.from_env(
        {
            "DESVIRT_DATABASE_URL": URL,
            "DESVIRT_SECRET_KEY": "bench-secret",
            "DESVIRT_PASSWORD_HASH_PROFILE": "cheapest",
            "DESVIRT_SIGNUPS_PER_IP_PER_HOUR": "0",
        }
    )
    engine = database.engine_from_url(URL)
    database.use_engine(engine)
    await database.connect(engine)
    try:
        await database.migrate()
        big, small = await person(settings, "big"), await person(settings, "small")
        await fill(settings, big, await person(settings, "host_of_big"), 1000)
        await fill(settings, small, await person(settings, "host_of_small"), 300)
        app = create_app(settings, engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            print(f"database: {URL.split('://')[0]}, {RUNS} runs each, median")
            await measure(client, settings, big, "1,000-event feed")
            await measure(client, settings, small, "300-event feed")
    finally:
        await database.disconnect(engine)


if __name__ == "__main__":
    asyncio.run(main())
