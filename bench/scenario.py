"""The people and meetups every benchmark uses, written straight into PostgreSQL.

Same on a small and a large database: a meetup with 200 attendees (`bench-200`), a person
whose feed has 300 events (`bench_feeder`), and 8 open meetups that 64 people with API
tokens RSVP to. Everyone's password is BENCH_PASSWORD (hashed cheaply: verifying it is not
what is measured).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg
from argon2 import PasswordHasher

from desvirt.accounts.service import TOKEN_PREFIX, feed_token_for_nonce
from desvirt.settings import Settings

BENCH_PASSWORD = "bench password 2026"
ATTENDEES = 200
FEED_EVENTS = 300
RSVP_MEETUPS = 8
RSVP_PEOPLE = 64


@dataclass
class Scenario:
    meetup_path: str
    viewer_email: str
    feed_path: str
    rsvp_paths: list[str]
    rsvp_tokens: list[str]


async def seed(dsn: str, settings: Settings) -> Scenario:
    password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(BENCH_PASSWORD)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            return await _seed(connection, settings, password_hash)
    finally:
        await connection.close()


async def _seed(connection: asyncpg.Connection, settings: Settings, password_hash: str) -> Scenario:
    async def person(handle: str) -> int:
        nonce = hashlib.sha256(f"bench-nonce-{handle}".encode()).hexdigest()[:32]
        token_hash = hashlib.sha256(feed_token_for_nonce(settings, nonce).encode()).hexdigest()
        user_id: int = await connection.fetchval(
            """INSERT INTO desvirt_user (email, handle, display_name, password_hash, locale,
                   timezone, quiet_hours_start, quiet_hours_end, reminder_offsets_minutes,
                   accepted_reasons, auto_decline_phrases, require_message, proposals_from,
                   feed_nonce, feed_token_hash, created_at)
               VALUES ($1, $2, $3, $4, 'en', 'Europe/Madrid', '22:00', '08:00', '[1440, 120]',
                   '["met_in_person"]', '[]', false, 'online', $5, $6, now())
               RETURNING id""",
            f"{handle}@bench.example",
            handle,
            handle.replace("_", " ").title(),
            password_hash,
            nonce,
            token_hash,
        )
        return user_id

    async def meetup(slug: str, host: int, days_ahead: int, capacity: int | None) -> int:
        meetup_id: int = await connection.fetchval(
            """INSERT INTO meetup (slug, host, kind, status, title, description, starts_at,
                   ends_at, timezone, venue_name, venue_address, online_url, capacity,
                   visibility, contacts_min_trust, requires_approval, seats_taken, sequence,
                   created_at, updated_at)
               VALUES ($1, $2, 'meetup', 'scheduled', $3, $4,
                   now() + make_interval(days => $5), now() + make_interval(days => $5, hours => 2),
                   'Europe/Madrid', 'Café Central', 'Calle Mayor 1, Madrid', '', $6,
                   'public', 'online', false, 0, 0, now(), now())
               RETURNING id""",
            slug,
            host,
            f"Benchmark meetup {slug}",
            "We meet to **talk shop** and finally see each other. [Agenda](https://example.org)",
            days_ahead,
            capacity,
        )
        return meetup_id

    async def going(meetup_id: int, user_ids: list[int]) -> None:
        await connection.executemany(
            """INSERT INTO rsvp (meetup, "user", response, status, guests, waitlist_position,
                   visible, checked_in_at, created_at, updated_at)
               VALUES ($1, $2, 'yes', 'going', 0, NULL, true, NULL, now(), now())""",
            [(meetup_id, user_id) for user_id in user_ids],
        )
        await connection.execute(
            "UPDATE meetup SET seats_taken = seats_taken + $2 WHERE id = $1",
            meetup_id,
            len(user_ids),
        )

    host = await person("bench_host")
    viewer = await person("bench_viewer")
    attendees = [await person(f"bench_a{index}") for index in range(ATTENDEES - 1)]
    big = await meetup("bench-200", host, 10, 500)
    await going(big, [viewer, *attendees])

    feeder = await person("bench_feeder")
    for index in range(FEED_EVENTS):
        event = await meetup(f"bench-feed-{index}", host, 1 + index, None)
        await going(event, [feeder])

    described = describe(settings)
    for index in range(RSVP_MEETUPS):
        await meetup(f"bench-rsvp-{index}", host, 20 + index, None)
    for index, plain in enumerate(described.rsvp_tokens):
        user_id = await person(f"bench_r{index}")
        await connection.execute(
            """INSERT INTO api_token ("user", name, token_hash, created_at, last_used_at)
               VALUES ($1, 'bench', $2, now(), now())""",
            user_id,
            hashlib.sha256(plain.encode()).hexdigest(),
        )
    return described


def describe(settings: Settings) -> Scenario:
    """What `seed` writes is deterministic: the paths and credentials to use it."""
    feeder_nonce = hashlib.sha256(b"bench-nonce-bench_feeder").hexdigest()[:32]
    return Scenario(
        meetup_path="/m/bench-200",
        viewer_email="bench_viewer@bench.example",
        feed_path=f"/cal/{feed_token_for_nonce(settings, feeder_nonce)}.ics",
        rsvp_paths=[f"/api/v1/meetups/bench-rsvp-{i}/rsvp" for i in range(RSVP_MEETUPS)],
        rsvp_tokens=[
            f"{TOKEN_PREFIX}bench-{i}-" + hashlib.sha256(f"t{i}".encode()).hexdigest()
            for i in range(RSVP_PEOPLE)
        ],
    )
