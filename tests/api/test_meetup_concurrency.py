"""No overbooking, ever: a crowd answering a small meetup at once, on both databases."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx

from desvirt.accounts.tables import ApiToken, User
from desvirt.meetups.tables import Meetup, Rsvp
from tests.conftest import SignUp

CROWD = 120
CAPACITY = 7


async def crowd_with_tokens(size: int) -> list[str]:
    """People with API tokens, inserted in bulk (signing 120 people up would test argon2)."""
    now = datetime.now(UTC)
    await User.insert(
        *(
            User(
                email=f"fan{index}@example.org",
                handle=f"fan{index}",
                display_name=f"Fan {index}",
                password_hash="-",
                feed_nonce=f"nonce{index}",
                feed_token_hash=f"feed{index}",
            )
            for index in range(size)
        )
    )
    ids = {row["handle"]: row["id"] for row in await User.select(User.id, User.handle)}
    tokens = [f"dsv_crowd_token_{index}" for index in range(size)]
    await ApiToken.insert(
        *(
            ApiToken(
                user=ids[f"fan{index}"],
                name="crowd",
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                last_used_at=now,
            )
            for index, token in enumerate(tokens)
        )
    )
    return tokens


async def test_a_crowd_answering_at_once_never_overbooks(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    starts = datetime.now(UTC) + timedelta(days=3)
    created = await client.post(
        "/api/v1/meetups",
        json={
            "title": "Tiny dinner",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "Europe/Berlin",
            "capacity": CAPACITY,
            "visibility": "public",
        },
    )
    slug = created.json()["slug"]
    tokens = await crowd_with_tokens(CROWD)

    async def answer(token: str) -> httpx.Response:
        return await client.post(
            f"/api/v1/meetups/{slug}/rsvp",
            json={"response": "yes"},
            headers={"Authorization": f"Bearer {token}"},
        )

    responses = await asyncio.wait_for(asyncio.gather(*(answer(t) for t in tokens)), 120)

    assert [r.status_code for r in responses] == [200] * CROWD
    answers = [r.json() for r in responses]
    assert sum(a["status"] == "going" for a in answers) == CAPACITY
    positions = sorted(a["waitlist_position"] for a in answers if a["status"] == "waitlisted")
    assert positions == list(range(1, CROWD - CAPACITY + 1))

    stored = await Rsvp.select(Rsvp.status, Rsvp.waitlist_position)
    assert sum(row["status"] == "going" for row in stored) == CAPACITY
    assert sorted(r["waitlist_position"] for r in stored if r["status"] == "waitlisted") == (
        positions
    )
    meetup = await Meetup.select(Meetup.seats_taken).where(Meetup.slug == slug).first()
    assert meetup == {"seats_taken": CAPACITY}


async def test_seats_freed_in_a_crowd_go_to_the_waitlist_in_order(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    starts = datetime.now(UTC) + timedelta(days=3)
    created = await client.post(
        "/api/v1/meetups",
        json={
            "title": "Tiny lunch",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "timezone": "UTC",
            "capacity": 5,
        },
    )
    slug = created.json()["slug"]
    tokens = await crowd_with_tokens(40)

    async def answer(token: str, response: str) -> httpx.Response:
        return await client.post(
            f"/api/v1/meetups/{slug}/rsvp",
            json={"response": response},
            headers={"Authorization": f"Bearer {token}"},
        )

    for token in tokens:  # in order: 5 going, 35 waiting
        await answer(token, "yes")
    # The five going and ten of the waiting leave at the same moment.
    leaving = tokens[:5] + tokens[10:20]
    responses = await asyncio.gather(*(answer(t, "no") for t in leaving))
    assert {r.status_code for r in responses} == {200}
    stored = await Rsvp.select(Rsvp.user.handle, Rsvp.status, Rsvp.waitlist_position)
    going = sorted(int(r["user.handle"][3:]) for r in stored if r["status"] == "going")
    assert going == [5, 6, 7, 8, 9]
    waiting = sorted(
        (r["waitlist_position"], int(r["user.handle"][3:]))
        for r in stored
        if r["status"] == "waitlisted"
    )
    assert [position for position, _ in waiting] == list(range(1, 21))
    assert [fan for _, fan in waiting] == list(range(20, 40))
