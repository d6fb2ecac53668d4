"""Contacts through the JSON API: requests under a charter, history, limits and blocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from desvirt.app import create_app
from desvirt.contacts.tables import ContactRequest
from desvirt.settings import Settings
from tests.conftest import Backend, ClientFactory, SignUp, open_client

People = dict[str, httpx.AsyncClient]


async def people(new_client: ClientFactory, sign_up: SignUp, *handles: str, **extra: str) -> People:
    clients = {}
    for handle in handles:
        clients[handle] = await new_client()
        await sign_up(clients[handle], handle, **extra)
    return clients


async def ask(
    sender: httpx.AsyncClient,
    to: str,
    reason: str = "read_your_work",
    message: str = "I read your talk on cooperative housing and have questions.",
) -> httpx.Response:
    return await sender.post(
        "/api/v1/contacts/requests", json={"to_handle": to, "reason": reason, "message": message}
    )


async def connect(
    clients: People, sender: str, recipient: str, reason: str = "read_your_work"
) -> None:
    asked = await ask(clients[sender], recipient, reason)
    assert asked.status_code == 201, asked.text
    accepted = await clients[recipient].post(
        f"/api/v1/contacts/requests/{asked.json()['id']}/accept"
    )
    assert accepted.status_code == 200, accepted.text


async def test_an_accepted_request_connects_both_online_with_the_reason(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    asked = await ask(c["ana"], "ben", "ongoing_exchange", "We talk on Mastodon every week.")
    assert asked.status_code == 201
    sent = asked.json()
    assert (sent["from_handle"], sent["to_handle"], sent["status"]) == ("ana", "ben", "pending")
    incoming = (await c["ben"].get("/api/v1/contacts/requests?direction=incoming")).json()
    assert [(r["from_handle"], r["reason"], r["message"]) for r in incoming] == [
        ("ana", "ongoing_exchange", "We talk on Mastodon every week.")
    ]
    assert incoming[0]["history"] == []
    outgoing = (await c["ana"].get("/api/v1/contacts/requests?direction=outgoing")).json()
    assert [r["id"] for r in outgoing] == [sent["id"]]
    accepted = await c["ben"].post(f"/api/v1/contacts/requests/{sent['id']}/accept")
    assert accepted.json()["status"] == "accepted"
    for me, other in (("ana", "ben"), ("ben", "ana")):
        listed = (await c[me].get("/api/v1/contacts")).json()
        assert [(x["handle"], x["trust"], x["reason"]) for x in listed] == [
            (other, "online", "ongoing_exchange")
        ]
    again = await c["ben"].post(f"/api/v1/contacts/requests/{sent['id']}/accept")
    assert again.status_code == 409
    assert (await ask(c["ana"], "ben")).json()["code"] == "already_connected"


async def test_a_declined_sender_waits_90_days_and_is_told_so(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    first = (await ask(c["ana"], "ben")).json()
    declined = await c["ben"].post(f"/api/v1/contacts/requests/{first['id']}/decline")
    assert declined.json()["status"] == "declined"
    assert (await c["ana"].get("/api/v1/contacts")).json() == []
    again = await ask(c["ana"], "ben")
    assert again.status_code == 409
    assert again.json()["code"] == "cooldown"
    assert 89 * 86400 < int(again.headers["retry-after"]) <= 90 * 86400
    long_ago = datetime.now(UTC) - timedelta(days=91)
    await ContactRequest.update({ContactRequest.answered_at: long_ago}).where(
        ContactRequest.id == first["id"]
    )
    later = await ask(c["ana"], "ben")
    assert later.status_code == 201
    history = later.json()["history"]
    assert [(h["kind"], h["actor_handle"]) for h in history] == [
        ("requested", "ana"),
        ("declined", "ben"),
    ]


async def test_the_charter_declines_politely_in_the_senders_language(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ben")
    c["ana"] = await new_client()
    await sign_up(c["ana"], "ana", locale="es")
    charter = {
        "accepted_reasons": ["met_in_person", "business_interest", "read_your_work"],
        "auto_decline_phrases": ["oportunidad única"],
        "require_message": True,
    }
    assert (await c["ben"].patch("/api/v1/me", json={"charter": charter})).status_code == 200

    wrong_reason = await ask(c["ana"], "ben", "client_or_partner", "Trabajamos juntos en 2024.")
    assert wrong_reason.status_code == 201
    body = wrong_reason.json()
    assert (body["status"], body["declined_rule"]) == ("auto_declined", "reason_not_accepted")
    assert "Ben no acepta solicitudes de contacto" in body["explanation"]
    assert "Cliente" in body["explanation"] or "cliente" in body["explanation"]

    pitch = await ask(c["ana"], "ben", "read_your_work", "Tengo una OPORTUNIDAD UNICA para ti")
    assert pitch.json()["declined_rule"] == "auto_decline_phrase"

    vague = await ask(c["ana"], "ben", "business_interest", "negocios")
    assert vague.json()["declined_rule"] == "business_interest_unspecified"

    silent = await ask(c["ana"], "ben", "met_in_person", "   ")
    assert silent.status_code == 422
    assert (silent.json()["code"], silent.json()["field"]) == ("message_required", "message")

    assert (await c["ben"].get("/api/v1/contacts/requests")).json() == []
    outgoing = (await c["ana"].get("/api/v1/contacts/requests?direction=outgoing")).json()
    assert {r["status"] for r in outgoing} == {"auto_declined"}
    # A charter decline is not a human decline: no cooldown, the sender may fix and retry.
    fixed = await ask(c["ana"], "ben", "met_in_person", "Nos vimos en la cena de Madrid.")
    assert fixed.json()["status"] == "pending"


async def test_bad_requests_get_clear_answers(new_client: ClientFactory, sign_up: SignUp) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    unknown_reason = await ask(c["ana"], "ben", "friends")
    assert (unknown_reason.status_code, unknown_reason.json()["field"]) == (422, "reason")
    to_self = await ask(c["ana"], "ana")
    assert (to_self.status_code, to_self.json()["field"]) == (422, "to_handle")
    nobody = await ask(c["ana"], "nobody_here")
    assert nobody.status_code == 404
    missing = await c["ana"].post("/api/v1/contacts/requests", json={"to_handle": "ben"})
    assert missing.status_code in (400, 422)
    assert (await ask(c["ana"], "ben")).status_code == 201
    twice = await ask(c["ana"], "ben")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_requested")
    reverse = await ask(c["ben"], "ana")
    assert (reverse.status_code, reverse.json()["code"]) == (409, "they_asked_you")
    direction = await c["ana"].get("/api/v1/contacts/requests?direction=sideways")
    assert direction.status_code == 422
    assert (await c["ana"].get("/api/v1/contacts?trust=best")).status_code == 422
    assert (await c["ben"].post("/api/v1/contacts/requests/999/accept")).status_code == 404
    anonymous = await new_client()
    assert (await anonymous.get("/api/v1/contacts")).status_code == 401


async def test_limits_answer_429_with_retry_after(
    db: Backend, settings: Settings, new_client: ClientFactory, sign_up: SignUp
) -> None:
    strict = create_app(replace(settings, contact_requests_per_day=3, pending_requests_max=2))
    async with open_client(strict) as ana:
        await sign_up(ana, "ana")
        for handle in ("ben", "eva", "leo", "mia"):
            await sign_up(await new_client(), handle)
        assert (await ask(ana, "ben")).status_code == 201
        assert (await ask(ana, "eva")).status_code == 201
        too_many_pending = await ask(ana, "leo")
        assert too_many_pending.status_code == 429
        assert too_many_pending.json()["code"] == "too_many_pending"
        assert int(too_many_pending.headers["retry-after"]) > 0
        withdrawn = (await ana.get("/api/v1/contacts/requests?direction=outgoing")).json()[0]
        assert (await ana.delete(f"/api/v1/contacts/requests/{withdrawn['id']}")).status_code == 204
        assert (await ask(ana, "leo")).status_code == 201
        await (await new_client()).get("/")
        over_the_day = await ask(ana, "mia")
        assert over_the_day.status_code == 429
        assert over_the_day.json()["code"] == "rate_limited"
        assert 0 < int(over_the_day.headers["retry-after"]) <= 86400


async def test_a_remover_who_asks_again_comes_with_the_history(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    await connect(c, "ana", "ben", "client_or_partner")
    assert (await c["ana"].delete("/api/v1/contacts/ben")).status_code == 204
    assert (await c["ben"].get("/api/v1/contacts")).json() == []
    assert (await c["ana"].delete("/api/v1/contacts/ben")).status_code == 404
    again = await ask(c["ana"], "ben", "read_your_work")
    assert again.status_code == 201
    incoming = (await c["ben"].get("/api/v1/contacts/requests")).json()
    history = incoming[0]["history"]
    assert [(h["kind"], h["actor_handle"]) for h in history] == [
        ("requested", "ana"),
        ("accepted", "ben"),
        ("removed", "ana"),
    ]
    assert history[0]["reason"] == "client_or_partner"
    detail = (await c["ben"].get("/api/v1/contacts/ana")).json()
    assert detail["trust"] == "none"
    assert [e["kind"] for e in detail["timeline"]] == [
        "requested",
        "accepted",
        "removed",
        "requested",
    ]


async def test_a_contact_and_its_timeline_are_only_for_the_two(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben", "eva")
    await connect(c, "ana", "ben", "met_in_person")
    detail = (await c["ana"].get("/api/v1/contacts/ben")).json()
    assert (detail["handle"], detail["trust"], detail["reason"]) == (
        "ben",
        "online",
        "met_in_person",
    )
    assert [e["kind"] for e in detail["timeline"]] == ["requested", "accepted"]
    assert detail["timeline"][0]["message"]
    assert (await c["eva"].get("/api/v1/contacts/ben")).status_code == 404
    assert (await c["eva"].get("/api/v1/contacts/ana")).status_code == 404
    assert (await c["ana"].get("/api/v1/contacts/ana")).status_code == 404


async def test_a_blocker_looks_like_nobody_to_the_blocked(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    await connect(c, "ana", "ben")
    blocked = await c["ben"].post("/api/v1/contacts/ana/block")
    assert blocked.status_code == 200
    assert blocked.json() == {"handle": "ana", "blocked": True}
    assert (await c["ana"].get("/api/v1/contacts")).json() == []
    assert (await c["ben"].get("/api/v1/contacts")).json() == []
    assert (await c["ana"].get("/api/v1/contacts/ben")).status_code == 404
    assert (await ask(c["ana"], "ben")).status_code == 404
    assert (await c["ana"].post("/api/v1/contacts/ben/block")).status_code == 404
    mine = await ask(c["ben"], "ana")
    assert (mine.status_code, mine.json()["code"]) == (409, "blocked")
    detail = (await c["ben"].get("/api/v1/contacts/ana")).json()
    assert detail["blocked"] is True
    assert detail["timeline"][-1]["kind"] == "blocked"
    assert (await c["ben"].delete("/api/v1/contacts/ana/block")).json()["blocked"] is False
    assert (await c["ben"].delete("/api/v1/contacts/ana/block")).status_code == 404
    after = (await c["ana"].get("/api/v1/contacts/ben")).json()
    assert after["trust"] == "none"
    assert "blocked" not in [e["kind"] for e in after["timeline"]]
    assert (await ask(c["ana"], "ben")).status_code == 201


async def test_pending_requests_from_someone_blocked_disappear(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    sent = (await ask(c["ana"], "ben")).json()
    await c["ben"].post("/api/v1/contacts/ana/block")
    assert (await c["ben"].get("/api/v1/contacts/requests")).json() == []
    assert (
        await c["ben"].post(f"/api/v1/contacts/requests/{sent['id']}/accept")
    ).status_code == 404
    # The blocked sender is not told: their request still reads as waiting.
    outgoing = (await c["ana"].get("/api/v1/contacts/requests?direction=outgoing")).json()
    assert outgoing[0]["status"] == "pending"


async def test_the_list_filters_by_trust_searches_names_and_paginates(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana")
    for handle, name in (("ben", "Benedikt Groß"), ("eva", "Eva Núñez"), ("leo", "Leo Brown")):
        c[handle] = await new_client()
        await sign_up(c[handle], handle, display_name=name)
        await connect(c, handle, "ana")
    from desvirt.accounts.tables import User
    from desvirt.contacts import service

    ana = await User.select(User.id).where(User.handle == "ana").first()
    eva = await User.select(User.id).where(User.handle == "eva").first()
    assert ana and eva
    await service.record_event(ana["id"], eva["id"], "met_claimed")
    met = (await c["ana"].get("/api/v1/contacts?trust=met")).json()
    assert [x["handle"] for x in met] == ["eva"]
    found = (await c["ana"].get("/api/v1/contacts?q=bro")).json()
    assert [x["handle"] for x in found] == ["leo"]
    first = await c["ana"].get("/api/v1/contacts?per_page=2")
    assert [x["display_name"] for x in first.json()] == ["Benedikt Groß", "Eva Núñez"]
    assert first.headers["x-total-count"] == "3"
    assert 'rel="next"' in first.headers["link"]
    second = await c["ana"].get("/api/v1/contacts?per_page=2&page=2")
    assert [x["handle"] for x in second.json()] == ["leo"]
    assert 'rel="prev"' in second.headers["link"]


async def test_names_are_found_without_minding_accents_or_case(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana")
    for handle, name in (("ben", "Benedikt Groß"), ("eva", "Eva Núñez"), ("lucia", "Lucía")):
        c[handle] = await new_client()
        await sign_up(c[handle], handle, display_name=name)
        await connect(c, handle, "ana")

    async def found(query: str) -> list[str]:
        answer = await c["ana"].get("/api/v1/contacts", params={"q": query})
        return [x["handle"] for x in answer.json()]

    assert await found("nunez") == ["eva"]
    assert await found("NÚÑEZ") == ["eva"]
    assert await found("gross") == ["ben"]
    assert await found("Groß") == ["ben"]
    assert await found("lucia") == ["lucia"]
    assert await found("eva nu") == ["eva"]
    renamed = await c["eva"].patch("/api/v1/me", json={"display_name": "Eva Ibáñez"})
    assert renamed.status_code == 200, renamed.text
    assert await found("ibanez") == ["eva"]
    assert await found("nunez") == []


async def test_concurrent_requests_never_pass_the_daily_limit(
    db: Backend, settings: Settings, new_client: ClientFactory, sign_up: SignUp
) -> None:
    import asyncio

    strict = create_app(replace(settings, contact_requests_per_day=3))
    handles = [f"person{n}" for n in range(12)]
    for handle in handles:
        await sign_up(await new_client(), handle)
    async with open_client(strict) as ana:
        await sign_up(ana, "ana")
        answers = await asyncio.gather(*(ask(ana, handle) for handle in handles))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 3 + [429] * 9
    assert await ContactRequest.count() == 3


async def test_the_openapi_document_lists_the_contact_endpoints(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/v1/contacts", "/api/v1/contacts/requests", "/api/v1/contacts/{handle}"):
        assert path in schema["paths"]


async def test_a_charter_decline_reads_as_one_in_the_timeline(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    await c["ben"].patch("/api/v1/me", json={"charter": {"accepted_reasons": ["met_in_person"]}})
    assert (await ask(c["ana"], "ben", "read_your_work")).json()["status"] == "auto_declined"
    timeline = (await c["ben"].get("/api/v1/contacts/ana")).json()["timeline"]
    assert [(e["kind"], e["by_charter"]) for e in timeline] == [
        ("requested", False),
        ("declined", True),
    ]
    page = await c["ben"].get("/u/ana")
    assert "Declined automatically by the contact charter" in page.text
