"""Fill PostgreSQL like a large instance: 100,000 people, 1,000,000 contact events (500,000
connected pairs: a request and its acceptance, plus the two-sided contact projection),
50,000 meetups with 10 RSVPs each. Pure SQL with generate_series: about a minute.

    python -m bench.generate postgresql://postgres@127.0.0.1:5432/desvirt_bench
"""

from __future__ import annotations

import asyncio
import sys
import time

import asyncpg

USERS = 100_000
PAIRS = 500_000  # two events each: 1,000,000 contact events
MEETUPS = 50_000
RSVPS_PER_MEETUP = 10

STATEMENTS = [
    (
        "people",
        f"""INSERT INTO desvirt_user (email, handle, display_name, search_name, password_hash,
               locale, timezone, quiet_hours_start, quiet_hours_end, reminder_offsets_minutes,
               accepted_reasons, auto_decline_phrases, require_message, proposals_from,
               feed_nonce, feed_token_hash, created_at)
            SELECT 'g' || n || '@generated.example', 'g' || n, 'Generated Person ' || n,
                   'generated person ' || n || ' g' || n, 'not-a-hash',
                   (ARRAY['en', 'es', 'de'])[1 + n % 3],
                   (ARRAY['Europe/Madrid', 'Europe/Berlin', 'America/Bogota'])[1 + n % 3],
                   '22:00', '08:00', '[1440, 120]', '["met_in_person"]', '[]', false, 'online',
                   md5('nonce' || n), md5('a' || n) || md5('b' || n),
                   now() - make_interval(mins => n)
            FROM generate_series(1, {USERS}) AS n""",
    ),
    (
        "meetups",
        f"""INSERT INTO meetup (slug, host, kind, status, title, description, starts_at, ends_at,
               timezone, venue_name, venue_address, online_url, capacity, visibility,
               contacts_min_trust, requires_approval, seats_taken, sequence, created_at,
               updated_at, cancelled_at)
            SELECT 'generated-' || n, base.id + (n * 7919) % {USERS}, 'meetup',
                   CASE WHEN n % 50 = 0 THEN 'cancelled' ELSE 'scheduled' END,
                   'Generated meetup ' || n, 'A meetup with **markdown**.',
                   now() + make_interval(days => n % 730 - 365),
                   now() + make_interval(days => n % 730 - 365, hours => 2),
                   'Europe/Madrid', 'Venue ' || n, 'Street ' || n, '',
                   CASE WHEN n % 3 = 0 THEN NULL ELSE 20 + n % 80 END,
                   (ARRAY['public', 'unlisted', 'contacts'])[1 + n % 3], 'online', false,
                   {RSVPS_PER_MEETUP}, n % 4, now(), now(),
                   CASE WHEN n % 50 = 0 THEN now() ELSE NULL END
            FROM generate_series(1, {MEETUPS}) AS n,
                 (SELECT min(id) AS id FROM desvirt_user WHERE handle LIKE 'g%') AS base""",
    ),
    (
        "rsvps",
        f"""INSERT INTO rsvp (meetup, "user", response, status, guests, waitlist_position,
               visible, checked_in_at, created_at, updated_at)
            SELECT m.id, base.id + (m.id * 31 + k * 7907) % {USERS}, 'yes', 'going', 0, NULL,
                   true, NULL, now(), now()
            FROM meetup AS m, generate_series(1, {RSVPS_PER_MEETUP}) AS k,
                 (SELECT min(id) AS id FROM desvirt_user WHERE handle LIKE 'g%') AS base
            WHERE m.slug LIKE 'generated-%'""",
    ),
    (
        "pairs",
        f"""CREATE TEMPORARY TABLE bench_pair AS
            SELECT least(a, b) AS low, greatest(a, b) AS high, p
            FROM (SELECT p, base.id + p % {USERS} AS a,
                         base.id + (p % {USERS} + 7 * (1 + p / {USERS})) % {USERS} AS b
                  FROM generate_series(0, {PAIRS - 1}) AS p,
                       (SELECT min(id) AS id FROM desvirt_user WHERE handle LIKE 'g%') AS base
                 ) AS pairs""",
    ),
    (
        "contact events",
        """INSERT INTO contact_event (low, high, actor, kind, reason, message, meetup, met_on,
               request, created_at)
           SELECT low, high, CASE WHEN k = 1 THEN low ELSE high END,
                  CASE WHEN k = 1 THEN 'requested' ELSE 'accepted' END,
                  CASE WHEN k = 1 THEN 'met_in_person' ELSE NULL END,
                  '', NULL, NULL, NULL,
                  now() - make_interval(mins => p) + make_interval(hours => k)
           FROM bench_pair, generate_series(1, 2) AS k""",
    ),
    (
        "contacts",
        """INSERT INTO contact (owner, other, trust, reason, since, meetings, updated_at)
           SELECT owner, other, 'online', 'met_in_person', now() - make_interval(mins => p), 0,
                  now()
           FROM (SELECT low AS owner, high AS other, p FROM bench_pair
                 UNION ALL SELECT high, low, p FROM bench_pair) AS sides""",
    ),
    ("analyze", "ANALYZE"),
]


async def generate(dsn: str) -> dict[str, float]:
    """Run every statement in one transaction; returns seconds per step."""
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            for name, statement in STATEMENTS[:-1]:
                started = time.perf_counter()
                await connection.execute(statement)
                timings[name] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings


async def counts(dsn: str) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        return {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("desvirt_user", "contact_event", "contact", "meetup", "rsvp")
        }
    finally:
        await connection.close()


if __name__ == "__main__":
    target = sys.argv[1]
    for step, seconds in asyncio.run(generate(target)).items():
        print(f"{step:16} {seconds:7.1f} s")
    print(asyncio.run(counts(target)))
