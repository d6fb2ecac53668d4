"""No overbooking, ever: a crowd answering a small meetup at once, on both databases.

And no check-in of someone who is not going, however the host's taps and the guest's
answer interleave.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx

from desvirt.accounts.tables import ApiToken, User
from desvirt.meetups.tables import Meetup, Rsvp
from tests.api.test_meetups import host_meetup, person
from tests.conftest import ClientFactory, SignUp

CROWD = 120
CAPACITY = 7
CHECK_IN_ROUNDS = 12
TAPS_PER_ROUND = 4


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


async def test_a_check_in_racing_the_guests_no_never_lands_after_the_no(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    """The host taps "check in" at the door while the guest answers "no" at the same moment.

    Either the check-in comes first (then the guest's "no" is the later change, and the
    check-in stays as a record that they came), or the "no" comes first and every check-in
    is refused with `not_going`. Never a check-in recorded on someone no longer going.
    """
    slug = await host_meetup(client, sign_up, capacity=5)
    ben = await person(new_client, sign_up, "ben")
    ben_row = await User.select(User.id).where(User.handle == "ben").first()
    assert ben_row is not None
    ben_rsvp = (Rsvp.meetup.slug == slug) & (Rsvp.user == ben_row["id"])

    for _ in range(CHECK_IN_ROUNDS):
        await Rsvp.update({Rsvp.checked_in_at: None}).where(ben_rsvp)  # a fresh arrival
        going = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
        assert going.json()["status"] == "going", going.text

        *taps, no = await asyncio.gather(
            *(client.post(f"/api/v1/meetups/{slug}/checkin/ben") for _ in range(TAPS_PER_ROUND)),
            ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"}),
        )

        assert no.status_code == 200 and no.json()["status"] == "declined", no.text
        for tap in taps:
            assert tap.status_code in (200, 409), tap.text
            if tap.status_code == 409:
                assert tap.json()["code"] == "not_going"
        row = (
            await Rsvp.select(Rsvp.status, Rsvp.checked_in_at, Rsvp.updated_at)
            .where(ben_rsvp)
            .first()
        )
        assert row is not None and row["status"] == "declined"
        if row["checked_in_at"] is not None:
            # checked in while going: the "no" is the later change
            assert row["checked_in_at"] < row["updated_at"], row
        else:
            assert {tap.status_code for tap in taps} == {409}
