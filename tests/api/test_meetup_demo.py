"""`desvirt demo` fills the meetups part: upcoming meetups in es/de/en with answers."""

from __future__ import annotations

from datetime import UTC, datetime

from desvirt.accounts.tables import User
from desvirt.cli import DEMO_PEOPLE
from desvirt.meetups import demo
from desvirt.meetups.tables import Meetup, Rsvp
from tests.conftest import Backend


async def test_the_demo_meetups_load_once_with_seats_waitlist_and_check_ins(db: Backend) -> None:
    await User.insert(
        *(
            User(
                email=email,
                handle=handle,
                display_name=name,
                password_hash="-",
                locale=locale,
                timezone=zone,
                feed_nonce=handle,
                feed_token_hash=handle,
            )
            for email, handle, name, locale, zone in DEMO_PEOPLE
        )
    )
    await demo.load()
    await demo.load()
    meetups = await Meetup.select(Meetup.title, Meetup.ends_at, Meetup.seats_taken)
    assert len(meetups) == len(demo.DEMO_MEETUPS)
    past = [m for m in meetups if m["ends_at"] < datetime.now(UTC)]
    assert [m["title"] for m in past] == ["Afterwork Wien: Netzwerken ohne Visitenkarten"]
    statuses = [row["status"] for row in await Rsvp.select(Rsvp.status)]
    assert {"going", "waitlisted", "maybe", "pending_approval"} <= set(statuses)
    assert await Rsvp.count().where(Rsvp.checked_in_at.is_not_null()) == 2
