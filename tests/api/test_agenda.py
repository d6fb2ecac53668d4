"""The front page shows a signed-in person what they host, attend and must vote on."""

from __future__ import annotations

import httpx

from tests.api.test_meetup_pages import HTML
from tests.api.test_meetups import meetup_body
from tests.api.test_proposals import connected, proposal_body
from tests.conftest import ClientFactory, QueryLog, SignUp

Client = httpx.AsyncClient


async def test_the_front_page_lists_my_meetups_and_the_proposals_waiting_for_my_vote(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    ana = await sign_up(client, "ana")
    ben_client = await new_client()
    ben = await sign_up(ben_client, "ben")
    await connected(ana, ben)
    hosted = await client.post("/api/v1/meetups", json=meetup_body(title="Cañas del jueves"))
    slug = hosted.json()["slug"]
    await client.post("/api/v1/meetups", json=proposal_body("ben", title="Café a dos"))
    assert (
        await ben_client.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    ).is_success

    ben_home = (await ben_client.get("/", headers=HTML)).text
    assert "Waiting for your vote" in ben_home and "Café a dos" in ben_home
    assert "Cañas del jueves" in ben_home.split("Waiting for your vote")[1]
    ana_home = (await client.get("/", headers=HTML)).text
    assert "Your open proposals" in ana_home and "you host" in ana_home

    anonymous = await new_client()
    assert "Your meetups" not in (await anonymous.get("/", headers=HTML)).text


async def test_the_front_page_costs_the_same_queries_for_one_or_many_meetups(
    client: Client, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "ana")
    await client.post("/api/v1/meetups", json=meetup_body())
    queries.clear()
    await client.get("/", headers=HTML)
    few = queries.count
    for number in range(8):
        await client.post("/api/v1/meetups", json=meetup_body(title=f"Meetup {number}"))
    queries.clear()
    await client.get("/", headers=HTML)
    assert queries.count == few
