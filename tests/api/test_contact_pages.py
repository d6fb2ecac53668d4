"""Contacts in the browser without JavaScript: connect form, requests, list, blocks, charter."""

from __future__ import annotations

import httpx

from desvirt.accounts.tables import User
from desvirt.contacts.tables import Contact
from tests.conftest import Backend, ClientFactory, QueryLog, SignUp, csrf_token

People = dict[str, httpx.AsyncClient]


async def people(new_client: ClientFactory, sign_up: SignUp, *handles: str, **extra: str) -> People:
    clients = {}
    for handle in handles:
        clients[handle] = await new_client()
        await sign_up(clients[handle], handle, **extra)
    return clients


async def submit(
    client: httpx.AsyncClient, page_url: str, action: str, **fields: str
) -> httpx.Response:
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={**fields, "_csrf_token": csrf_token(page.text)})


async def test_connect_accept_and_see_each_other_in_the_list(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    page = await c["ana"].get("/u/ben")
    assert 'name="reason"' in page.text and 'for="reason"' in page.text
    assert 'name="message"' in page.text and 'for="message"' in page.text
    no_reason = await submit(c["ana"], "/u/ben", "/u/ben/connect", reason="", message="Hola Ben")
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    assert "Hola Ben" in no_reason.text
    sent = await submit(
        c["ana"], "/u/ben", "/u/ben/connect", reason="met_in_person", message="We met at the dinner"
    )
    assert (sent.status_code, sent.headers["location"]) == (303, "/u/ben?sent=1")
    assert "Your request is waiting for an answer." in (await c["ana"].get("/u/ben?sent=1")).text

    requests = await c["ben"].get("/contacts/requests")
    assert "We have already met" in requests.text
    assert "We met at the dinner" in requests.text
    request_id = (await c["ben"].get("/api/v1/contacts/requests")).json()[0]["id"]
    accepted = await submit(
        c["ben"], "/contacts/requests", f"/contacts/requests/{request_id}/accept"
    )
    assert accepted.status_code == 303
    listing = await c["ben"].get("/contacts")
    assert "Ana" in listing.text and "Connected online" in listing.text
    profile = await c["ana"].get("/u/ben")
    assert "Your history together" in profile.text
    timeline = " ".join(profile.text.split())
    assert "You asked to connect (We have already met)" in timeline
    assert "Ben accepted the request (We have already met)" in timeline


async def test_a_charter_decline_is_explained_on_the_page_in_spanish(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ben")
    c["ana"] = await new_client()
    await sign_up(c["ana"], "ana", locale="es")
    await c["ben"].patch("/api/v1/me", json={"charter": {"auto_decline_phrases": ["Quick call"]}})
    sent = await submit(
        c["ana"], "/u/ben", "/u/ben/connect", reason="read_your_work", message="¿Una QUICK CALL?"
    )
    assert sent.status_code == 303
    page = await c["ana"].get("/u/ben?sent=1")
    assert "Tu solicitud se ha rechazado" in page.text
    assert '<html lang="es">' in page.text


async def test_bad_connects_show_the_message_next_to_the_field(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    missing = await submit(c["ana"], "/u/ben", "/u/ben/connect", reason="met_in_person", message="")
    assert missing.status_code == 422
    assert 'id="message-error"' in missing.text
    assert "asks that every contact request include a message" in missing.text
    unknown = await submit(c["ana"], "/u/ben", "/u/ben/connect", reason="besties", message="x")
    assert unknown.status_code == 422 and 'id="reason-error"' in unknown.text
    assert (await c["ana"].get("/u/ana")).status_code == 200
    assert 'action="/u/ana/connect"' not in (await c["ana"].get("/u/ana")).text
    assert (
        await c["ana"].get("/u/nobody_here", headers={"accept": "text/html"})
    ).status_code == 404


async def test_a_blocker_is_a_404_page_to_the_blocked(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    blocked = await submit(c["ben"], "/u/ana", "/u/ana/block")
    assert blocked.status_code == 303
    assert "You blocked this person" in (await c["ben"].get("/u/ana")).text
    hidden = await c["ana"].get("/u/ben", headers={"accept": "text/html"})
    assert hidden.status_code == 404
    assert "Ben" not in hidden.text
    unblocked = await submit(c["ben"], "/u/ana", "/u/ana/unblock")
    assert unblocked.status_code == 303
    assert (await c["ana"].get("/u/ben")).status_code == 200


async def test_the_requests_page_warns_about_a_remover_asking_again(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana", "ben")
    first = await c["ana"].post(
        "/api/v1/contacts/requests",
        json={
            "to_handle": "ben",
            "reason": "business_interest",
            "message": "We sell booking software to dentists",
        },
    )
    await c["ben"].post(f"/api/v1/contacts/requests/{first.json()['id']}/accept")
    removed = await submit(c["ana"], "/u/ben", "/u/ben/remove")
    assert removed.status_code == 303
    await c["ana"].post(
        "/api/v1/contacts/requests",
        json={"to_handle": "ben", "reason": "read_your_work", "message": "Loved your essay"},
    )
    page = await c["ben"].get("/contacts/requests")
    assert "Ana removed you on" in page.text
    assert "Your earlier history together" in page.text


async def test_the_contact_list_filters_and_searches(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    c = await people(new_client, sign_up, "ana")
    for handle, name in (("ben", "Ben Ober"), ("eva", "Eva Núñez")):
        c[handle] = await new_client()
        await sign_up(c[handle], handle, display_name=name)
        sent = await c[handle].post(
            "/api/v1/contacts/requests",
            json={"to_handle": "ana", "reason": "met_in_person", "message": "hi"},
        )
        await c["ana"].post(f"/api/v1/contacts/requests/{sent.json()['id']}/accept")
    found = await c["ana"].get("/contacts?q=eva")
    assert "Eva Núñez" in found.text and "Ben Ober" not in found.text
    none_met = await c["ana"].get("/contacts?trust=met")
    assert "Eva Núñez" not in none_met.text and "No contact matches." in none_met.text


async def test_the_contact_list_costs_the_same_queries_with_3_or_5000_contacts(
    db: Backend, client: httpx.AsyncClient, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "ana")
    ana = await User.select(User.id).where(User.handle == "ana").first()
    assert ana is not None

    async def add_contacts(start: int, count: int) -> None:
        for chunk in range(start, start + count, 500):
            numbers = range(chunk, min(chunk + 500, start + count))
            await User.insert(
                *(
                    User(
                        email=f"p{n}@example.org",
                        handle=f"p{n}",
                        display_name=f"Person {n:05d}",
                        password_hash="x",
                        feed_nonce=f"n{n}",
                        feed_token_hash=f"h{n}",
                    )
                    for n in numbers
                )
            )
            ids = await User.select(User.id).where(User.handle.is_in([f"p{n}" for n in numbers]))
            await Contact.insert(
                *(Contact(owner=ana["id"], other=row["id"], reason="met_in_person") for row in ids)
            )

    await add_contacts(0, 3)
    queries.clear()
    small = await client.get("/contacts")
    assert small.status_code == 200
    few = queries.count
    await add_contacts(3, 4997)
    queries.clear()
    big = await client.get("/contacts?page=2")
    assert big.status_code == 200
    assert queries.count == few
    assert "Page 2 of 100" in big.text
    assert big.text.count('class="card"') <= 51
    queries.clear()
    assert (await client.get("/api/v1/contacts?trust=online&q=person")).status_code == 200
    assert queries.count <= few


async def test_the_charter_form_keeps_input_when_something_is_wrong(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    bad = await submit(
        client,
        "/settings",
        "/settings/charter",
        auto_decline_phrases="crypto\nquick call",
        proposals_from="everyone",
    )
    assert bad.status_code == 422
    assert 'id="accepted_reasons-error"' in bad.text or 'id="proposals_from-error"' in bad.text
    assert "quick call" in bad.text
    good = await client.post(
        "/settings/charter",
        data={
            "accepted_reasons": ["met_in_person", "meeting_soon"],
            "auto_decline_phrases": "crypto\nquick call",
            "proposals_from": "met",
            "_csrf_token": csrf_token(bad.text),
        },
    )
    assert good.status_code == 303
    me = (await client.get("/api/v1/me")).json()["charter"]
    assert me == {
        "accepted_reasons": ["met_in_person", "meeting_soon"],
        "auto_decline_phrases": ["crypto", "quick call"],
        "require_message": False,
        "proposals_from": "met",
    }
