"""Meetups through the JSON API: create, read, edit, cancel, RSVP, approve, check in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from desvirt.meetups.tables import Meetup, Rsvp
from tests.conftest import ClientFactory, SignUp

Client = httpx.AsyncClient


def later(days: int = 7, hours: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(days=days, hours=hours)
    return moment.replace(microsecond=0).isoformat()


def meetup_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Cañas #desvirt Madrid",
        "description": "Nos vemos en **La Latina**. [Mapa](https://example.org/map)",
        "starts_at": later(7),
        "ends_at": later(7, 3),
        "timezone": "Europe/Madrid",
        "venue": {"name": "Bar Pepe", "address": "Calle Mayor 1, Madrid", "latitude": 40.4155,
                  "longitude": -3.7074},
        "capacity": 3,
        "visibility": "public",
    }  # fmt: skip
    body.update(changes)
    return body


async def host_meetup(client: Client, sign_up: SignUp, **changes: Any) -> str:
    await sign_up(client, "ana", timezone="Europe/Madrid")
    response = await client.post("/api/v1/meetups", json=meetup_body(**changes))
    assert response.status_code == 201, response.text
    slug: str = response.json()["slug"]
    return slug


async def person(new_client: ClientFactory, sign_up: SignUp, handle: str) -> Client:
    other = await new_client()
    await sign_up(other, handle)
    return other


async def test_creating_a_meetup_gives_its_page_and_calendar_links(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    response = await client.post("/api/v1/meetups", json=meetup_body())
    assert response.status_code == 201
    created = response.json()
    assert created["slug"].startswith("canas-desvirt-madrid-")
    assert created["url"] == f"http://testserver.local/m/{created['slug']}"
    assert created["ics_url"] == f"http://testserver.local/m/{created['slug']}.ics"
    meetup = (await client.get(f"/api/v1/meetups/{created['slug']}")).json()
    assert meetup["title"] == "Cañas #desvirt Madrid"
    assert meetup["timezone"] == "Europe/Madrid"
    assert meetup["starts_at"].endswith(("+01:00", "+02:00"))
    assert "<strong>La Latina</strong>" in meetup["description_html"]
    assert meetup["venue"]["map_url"].startswith("https://www.openstreetmap.org/")
    assert meetup["capacity"] == 3 and meetup["seats_left"] == 3
    assert meetup["host"] == {"handle": "ana", "display_name": "Ana"}
    assert meetup["sequence"] == 0 and meetup["status"] == "scheduled"


async def test_a_meetup_needs_a_signed_in_host(client: Client) -> None:
    response = await client.post("/api/v1/meetups", json=meetup_body())
    assert response.status_code == 401


async def test_bad_meetups_are_refused_with_the_field_and_nothing_is_stored(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    cases = [
        ({"ends_at": later(6)}, "ends_at"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"capacity": -1}, "capacity"),
        ({"visibility": "friends"}, "visibility"),
        ({"starts_at": "tomorrow at seven"}, "starts_at"),
        ({"starts_at": later(-3), "ends_at": later(-3, 2)}, "ends_at"),
    ]
    for change, field in cases:
        response = await client.post("/api/v1/meetups", json=meetup_body(**change))
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field
        assert response.json()["code"] == "invalid_input"
    assert await Meetup.count() == 0


async def test_an_unknown_meetup_is_a_404(client: Client) -> None:
    response = await client.get("/api/v1/meetups/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_rsvps_fill_the_seats_then_the_waitlist_in_order(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=3)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    dani = await person(new_client, sign_up, "dani")
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes", "guests": 1})
    assert answer.json() == {"status": "going", "guests": 1}
    answer = await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    assert answer.json()["status"] == "going"
    answer = await dani.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    assert answer.json() == {"status": "waitlisted", "guests": 0, "waitlist_position": 1}
    meetup = (await dani.get(f"/api/v1/meetups/{slug}")).json()
    assert meetup["seats_left"] == 0
    assert meetup["my_rsvp"]["status"] == "waitlisted"


async def test_waitlisted_guest_moves_up_when_a_seat_frees(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=1)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"})
    assert answer.json()["status"] == "declined"
    mine = (await carla.get(f"/api/v1/meetups/{slug}")).json()["my_rsvp"]
    assert mine["status"] == "going" and mine["waitlist_position"] is None


async def test_bad_rsvps_are_refused(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "perhaps"})
    assert answer.status_code == 422 and answer.json()["field"] == "response"
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes", "guests": 99})
    assert answer.status_code == 422 and answer.json()["field"] == "guests"
    assert await Rsvp.count() == 0


async def test_an_rsvp_to_a_cancelled_or_past_meetup_is_refused(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    assert (await client.post(f"/api/v1/meetups/{slug}/cancel")).status_code == 200
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    assert answer.status_code == 409 and answer.json()["code"] == "cancelled"

    second = (await client.post("/api/v1/meetups", json=meetup_body())).json()["slug"]
    past = datetime.now(UTC) - timedelta(days=1)
    await Meetup.update({Meetup.starts_at: past - timedelta(hours=2), Meetup.ends_at: past}).where(
        Meetup.slug == second
    )
    answer = await ben.post(f"/api/v1/meetups/{second}/rsvp", json={"response": "yes"})
    assert answer.status_code == 409 and answer.json()["code"] == "past"
    assert await Rsvp.count() == 0


async def test_a_guest_who_said_no_cannot_be_checked_in_but_a_no_after_the_check_in_keeps_it(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"})
    refused = await client.post(f"/api/v1/meetups/{slug}/checkin/ben")
    assert refused.status_code == 409 and refused.json()["code"] == "not_going"
    assert await Rsvp.count().where(Rsvp.checked_in_at.is_not_null()) == 0

    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    checked = await client.post(f"/api/v1/meetups/{slug}/checkin/carla")
    assert checked.status_code == 200
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"})
    row = await Rsvp.select(Rsvp.status, Rsvp.checked_in_at).where(Rsvp.response == "no")
    assert sorted((r["status"], r["checked_in_at"] is not None) for r in row) == [
        ("declined", False),
        ("declined", True),
    ]
