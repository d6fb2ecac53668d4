"""Desvirtualización proposals: invite contacts, offer candidate times, vote, fix one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from desvirt.accounts.tables import User
from desvirt.contacts import service as contacts
from desvirt.notifications.tables import OutboxMessage
from tests.conftest import ClientFactory, SignUp

Client = httpx.AsyncClient


def later(days: int, hours: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(days=days, hours=hours)
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


def proposal_body(*invitees: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Café para desvirtualizarnos",
        "starts_at": "",
        "ends_at": "",
        "timezone": "Europe/Madrid",
        "venue": {"name": "Café Comercial", "address": "Glorieta de Bilbao 7, Madrid"},
        "visibility": "unlisted",
        "invitees": list(invitees),
        "time_options": [
            {"starts_at": later(3), "ends_at": later(3, 1)},
            {"starts_at": later(4), "ends_at": later(4, 1)},
            {"starts_at": later(5), "ends_at": later(5, 2)},
        ],
    }
    body.update(changes)
    return body


async def connected(one: dict[str, Any], other: dict[str, Any]) -> None:
    ids = {
        row["handle"]: row["id"]
        for row in await User.select(User.id, User.handle).where(
            User.handle.is_in([one["handle"], other["handle"]])
        )
    }
    first, second = ids[one["handle"]], ids[other["handle"]]
    await contacts.record_event(first, second, "requested", reason="read_your_work")
    await contacts.record_event(second, first, "accepted")


async def people(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> tuple[Client, Client, dict[str, Any], dict[str, Any]]:
    ana = await sign_up(client, "ana")
    ben_client = await new_client()
    ben = await sign_up(ben_client, "ben")
    await connected(ana, ben)
    return client, ben_client, ana, ben


async def propose(client: Client, *invitees: str, **changes: Any) -> str:
    response = await client.post("/api/v1/meetups", json=proposal_body(*invitees, **changes))
    assert response.status_code == 201, response.text
    slug: str = response.json()["slug"]
    return slug


async def test_invitee_votes_and_the_fixed_time_makes_a_meetup_with_them_going(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, guest, _, _ = await people(client, new_client, sign_up)
    slug = await propose(host, "ben")

    seen = (await guest.get(f"/api/v1/meetups/{slug}")).json()
    assert seen["kind"] == "proposal" and seen["status"] == "proposed"
    assert seen["starts_at"] is None
    assert [i["handle"] for i in seen["invitees"]] == ["ben"]
    first, second, _ = seen["time_options"]

    voted = await guest.post(
        f"/api/v1/meetups/{slug}/votes",
        json={"votes": [{"option_id": first["id"], "answer": "no"},
                        {"option_id": second["id"], "answer": "yes"}]},
    )  # fmt: skip
    assert voted.status_code == 200, voted.text
    options = {o["id"]: o for o in voted.json()["time_options"]}
    assert options[second["id"]]["votes"] == {"yes": 1, "maybe": 0, "no": 0}
    assert options[second["id"]]["my_vote"] == "yes"

    fixed = await host.post(f"/api/v1/meetups/{slug}/schedule", json={"option_id": second["id"]})
    assert fixed.status_code == 200, fixed.text
    meetup = fixed.json()
    assert meetup["status"] == "scheduled"
    assert meetup["starts_at"] == second["starts_at"]
    assert meetup["sequence"] == 1
    attendees = (await host.get(f"/api/v1/meetups/{slug}/attendees")).json()
    assert [(a["handle"], a["status"]) for a in attendees] == [("ben", "going")]


async def test_a_proposal_is_a_404_to_people_who_are_not_invited(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, _, _, _ = await people(client, new_client, sign_up)
    slug = await propose(host, "ben")
    stranger = await new_client()
    await sign_up(stranger, "carla")
    assert (await stranger.get(f"/api/v1/meetups/{slug}")).status_code == 404
    anonymous = await new_client()
    assert (await anonymous.get(f"/api/v1/meetups/{slug}")).status_code == 404


async def test_proposals_obey_the_invitees_charter(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    stranger = await new_client()
    await sign_up(stranger, "carla")
    refused = await client.post("/api/v1/meetups", json=proposal_body("carla"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "charter_proposals_from"

    opened = await stranger.patch("/api/v1/me", json={"charter": {"proposals_from": "anyone"}})
    assert opened.status_code == 200, opened.text
    assert (await client.post("/api/v1/meetups", json=proposal_body("carla"))).status_code == 201


async def test_one_pending_proposal_per_pair_and_a_cooldown_after_a_decline(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, guest, _, _ = await people(client, new_client, sign_up)
    slug = await propose(host, "ben")
    again = await host.post("/api/v1/meetups", json=proposal_body("ben"))
    assert again.status_code == 409
    assert again.json()["code"] == "proposal_pending"

    assert (await guest.post(f"/api/v1/meetups/{slug}/decline")).status_code == 200
    after_decline = await host.post("/api/v1/meetups", json=proposal_body("ben"))
    assert after_decline.status_code == 409
    assert after_decline.json()["code"] == "proposal_cooldown"


async def test_bad_candidate_times_and_invitees_are_refused_with_nothing_created(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, _, _, _ = await people(client, new_client, sign_up)
    six = [{"starts_at": later(d), "ends_at": later(d, 1)} for d in range(2, 8)]
    backwards = [{"starts_at": later(3, 2), "ends_at": later(3)}]
    past = [{"starts_at": later(-2), "ends_at": later(-2, 1)}]
    for options in ([], six, backwards, past):
        response = await host.post(
            "/api/v1/meetups", json=proposal_body("ben", time_options=options)
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "time_options"
    for invitees in ([], ["ana"], ["nobody-here"]):
        response = await host.post("/api/v1/meetups", json=proposal_body(*invitees))
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "invitees"
    listing = await host.post("/api/v1/meetups", json=proposal_body("ben"))
    assert listing.status_code == 201


async def test_only_the_host_fixes_the_time_and_only_invitees_vote(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, guest, _, _ = await people(client, new_client, sign_up)
    slug = await propose(host, "ben")
    option = (await guest.get(f"/api/v1/meetups/{slug}")).json()["time_options"][0]
    refused = await guest.post(f"/api/v1/meetups/{slug}/schedule", json={"option_id": option["id"]})
    assert refused.status_code == 403
    wrong = await guest.post(
        f"/api/v1/meetups/{slug}/votes", json={"votes": [{"option_id": 99999, "answer": "yes"}]}
    )
    assert wrong.status_code == 422
    bad_answer = await guest.post(
        f"/api/v1/meetups/{slug}/votes",
        json={"votes": [{"option_id": option["id"], "answer": "perhaps"}]},
    )
    assert bad_answer.status_code == 422
    fixed = await host.post(f"/api/v1/meetups/{slug}/schedule", json={"option_id": option["id"]})
    assert fixed.status_code == 200
    late_vote = await guest.post(
        f"/api/v1/meetups/{slug}/votes",
        json={"votes": [{"option_id": option["id"], "answer": "yes"}]},
    )
    assert late_vote.status_code == 409


async def test_invitees_without_a_seat_are_invited_again_when_the_time_is_fixed(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    host, guest, ana, _ = await people(client, new_client, sign_up)
    carla_client = await new_client()
    carla = await sign_up(carla_client, "carla")
    await connected(ana, carla)
    slug = await propose(host, "ben", "carla")
    option = (await guest.get(f"/api/v1/meetups/{slug}")).json()["time_options"][0]
    await guest.post(
        f"/api/v1/meetups/{slug}/votes",
        json={"votes": [{"option_id": option["id"], "answer": "yes"}]},
    )
    fixed = await host.post(f"/api/v1/meetups/{slug}/schedule", json={"option_id": option["id"]})
    assert fixed.status_code == 200
    invited = await (
        OutboxMessage.select(OutboxMessage.recipient.handle)
        .where(OutboxMessage.kind == "invited")
        .order_by(OutboxMessage.id)
    )
    # Both were invited to vote; after the time is fixed only carla (no seat yet) is asked again.
    assert [row["recipient.handle"] for row in invited] == ["ben", "carla", "carla"]
