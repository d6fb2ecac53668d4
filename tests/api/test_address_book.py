"""The address book through the API and its page: import all or nothing, list, forget, export."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import vobject

from desvirt.accounts.tables import User
from desvirt.contacts.address_book import MAX_FILE_BYTES, MAX_PEOPLE
from desvirt.contacts.service import record_event
from desvirt.contacts.tables import AddressBookEntry
from tests.conftest import ClientFactory, QueryLog, SignUp, csrf_token

CONNECTIONS = (
    "\ufeffNotes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    'are missing."\r\n'
    "\r\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Lucía,Fernández,https://www.linkedin.com/in/lucia,lucia@example.org,"
    '"Acme, S.L.",CTO,12 Mar 2024\r\n'
    "Jonas,Weber,https://www.linkedin.com/in/jonas,,Siemens,Engineer,01 Feb 2023\r\n"
).encode()

VCARDS = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Emma\r\n  Schmidt\r\nEMAIL;TYPE=pref:emma@example.org\r\n"
    b"ORG:Kaffee GmbH\r\nEND:VCARD\r\n"
    b"BEGIN:VCARD\r\nVERSION:4.0\r\nN:Ruiz;Noah;;;\r\nURL:https://noah.example/\r\nEND:VCARD\r\n"
)


async def upload(
    client: httpx.AsyncClient, data: bytes, name: str = "Connections.csv"
) -> httpx.Response:
    return await client.post("/api/v1/address-book/import", files={"file": (name, data)})


async def names_in_book(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/address-book")
    assert response.status_code == 200, response.text
    return [entry["name"] for entry in response.json()["entries"]]


async def test_linkedin_export_becomes_people_to_invite(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    response = await upload(client, CONNECTIONS)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "source": "linkedin",
        "read": 2,
        "added": 2,
        "updated": 0,
        "unchanged": 0,
    }
    listing = (await client.get("/api/v1/address-book")).json()
    assert listing["total"] == 2
    jonas, lucia = listing["entries"]
    assert jonas["name"] == "Jonas Weber"
    assert jonas["email"] == ""
    assert lucia == {
        **lucia,
        "name": "Lucía Fernández",
        "email": "lucia@example.org",
        "company": "Acme, S.L.",
        "position": "CTO",
        "profile_url": "https://www.linkedin.com/in/lucia",
        "source": "linkedin",
        "connected_on": "2024-03-12",
        "on_desvirt": None,
    }


async def test_importing_the_same_file_again_adds_nobody_twice(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    await upload(client, CONNECTIONS)
    again = await upload(client, CONNECTIONS)
    assert again.json() == {**again.json(), "added": 0, "updated": 0, "unchanged": 2}
    newer = CONNECTIONS.replace(b"CTO", b"CEO")
    assert (await upload(client, newer)).json()["updated"] == 1
    assert await AddressBookEntry.count() == 2
    assert "CEO" in (await client.get("/api/v1/address-book")).text


async def test_vcards_come_in_as_a_raw_body_too(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up(client, "ana")
    response = await client.post(
        "/api/v1/address-book/import", content=VCARDS, headers={"content-type": "text/vcard"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "vcard"
    assert await names_in_book(client) == ["Emma Schmidt", "Noah Ruiz"]
    again = await upload(client, VCARDS, "contacts.vcf")
    assert again.json()["added"] == 0


async def test_a_file_with_bad_rows_is_refused_whole_with_every_line_named(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    bad = CONNECTIONS + b",,https://www.linkedin.com/in/x,,,,\r\nBen,Alt,,ben@,,,\r\n"
    response = await upload(client, bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_file"
    assert body["field"] == "file"
    assert body["problems"] == [
        {"line": 7, "problem": "This person has no name."},
        {"line": 8, "problem": "This is not a valid email address."},
    ]
    assert await AddressBookEntry.count() == 0


async def test_wrong_columns_and_broken_files_are_clear_4xx(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    wrong = await upload(client, b"Vorname;Nachname\nAna;Ruiz\n")
    assert wrong.status_code == 422
    assert "First Name and Last Name" in wrong.json()["problems"][0]["problem"]
    binary = await upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv")
    assert binary.status_code == 422
    unclosed = await upload(client, b"BEGIN:VCARD\nVERSION:4.0\nFN:Ana\n", "a.vcf")
    assert unclosed.json()["problems"] == [{"line": 1, "problem": "This card has no END:VCARD."}]
    as_json = await client.post("/api/v1/address-book/import", json={"file": "x"})
    assert as_json.status_code == 415
    no_file = await client.post("/api/v1/address-book/import", files={"other": ("a", b"x")})
    assert no_file.status_code == 422
    assert no_file.json()["field"] == "file"
    assert await AddressBookEntry.count() == 0


async def test_too_large_files_and_too_many_rows_are_413(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    big = b"Name,Email\n" + b"x" * MAX_FILE_BYTES
    response = await upload(client, big)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    huge = await client.post(
        "/api/v1/address-book/import",
        content=b"x" * (3 * MAX_FILE_BYTES),
        headers={"content-type": "text/csv"},
    )
    assert huge.status_code == 413
    rows = "".join(f"P{n},p{n}@example.org\n" for n in range(MAX_PEOPLE + 1))
    many = await upload(client, ("Name,Email\n" + rows).encode())
    assert many.status_code == 413
    assert "more than 5000 people" in many.json()["problems"][0]["problem"]
    assert await AddressBookEntry.count() == 0


async def test_five_thousand_people_import_in_one_go(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    rows = "".join(f"Person {n},p{n}@example.org\n" for n in range(MAX_PEOPLE))
    response = await upload(client, ("Name,Email\n" + rows).encode())
    assert response.json()["added"] == MAX_PEOPLE
    listing = (await client.get("/api/v1/address-book?page=2")).json()
    assert listing == {**listing, "total": MAX_PEOPLE, "page": 2, "pages": 50}
    assert len(listing["entries"]) == 100


async def test_members_show_as_on_desvirt_unless_blocked(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    ana = await sign_up(client, "ana")
    await sign_up(await new_client(), "lucia")
    await sign_up(await new_client(), "emma")
    await upload(client, CONNECTIONS)
    await upload(client, VCARDS, "friends.vcf")
    entries = {e["name"]: e for e in (await client.get("/api/v1/address-book")).json()["entries"]}
    assert entries["Lucía Fernández"]["on_desvirt"] == {
        "handle": "lucia",
        "display_name": "Lucia",
        "url": "http://testserver.local/u/lucia",
        "is_contact": False,
    }
    assert entries["Emma Schmidt"]["on_desvirt"]["handle"] == "emma"
    assert entries["Jonas Weber"]["on_desvirt"] is None

    ids = {u["handle"]: u["id"] for u in await User.select(User.id, User.handle)}
    await record_event(ids["emma"], ids["ana"], "blocked")
    await record_event(ids["ana"], ids["lucia"], "requested", reason="met_in_person")
    await record_event(ids["lucia"], ids["ana"], "accepted", reason="met_in_person")
    entries = {e["name"]: e for e in (await client.get("/api/v1/address-book")).json()["entries"]}
    assert entries["Emma Schmidt"]["on_desvirt"] is None
    assert entries["Lucía Fernández"]["on_desvirt"]["is_contact"] is True
    assert ana["handle"] == "ana"


async def test_an_entry_can_be_forgotten_only_by_its_owner(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    await upload(client, CONNECTIONS)
    first = (await client.get("/api/v1/address-book")).json()["entries"][0]
    intruder = await new_client()
    await sign_up(intruder, "mallory")
    assert (await intruder.delete(f"/api/v1/address-book/{first['id']}")).status_code == 404
    assert (await client.delete(f"/api/v1/address-book/{first['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/address-book/{first['id']}")).status_code == 404
    assert await names_in_book(client) == ["Lucía Fernández"]


async def test_the_address_book_needs_a_session(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/address-book")).status_code == 401
    assert (await upload(client, CONNECTIONS)).status_code == 401
    assert (await client.get("/api/v1/contacts/export.vcf")).status_code == 401


async def test_concurrent_imports_of_one_file_add_each_person_once(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    responses = await asyncio.gather(*(upload(client, CONNECTIONS) for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert sum(r.json()["added"] for r in responses) == 2
    assert await AddressBookEntry.count() == 2


async def test_listing_costs_the_same_queries_for_two_or_three_hundred_entries(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "ana")
    for n in range(5):
        await sign_up(await new_client(), f"member{n}")

    async def count_for(people: int) -> int:
        await AddressBookEntry.delete(force=True)
        rows = "".join(f"P{n},member{n % 7}x{n}@example.org\n" for n in range(people))
        rows += "".join(f"M{n},member{n}@example.org\n" for n in range(5))
        assert (await upload(client, ("Name,Email\n" + rows).encode())).status_code == 200
        queries.clear()
        assert (await client.get("/api/v1/address-book")).status_code == 200
        return queries.count

    assert await count_for(2) == await count_for(300)


async def contacts_of_ana(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> dict[str, Any]:
    await sign_up(client, "ana", locale="es")
    for handle in ("lucia", "jonas"):
        await sign_up(await new_client(), handle)
    ids = {u["handle"]: u["id"] for u in await User.select(User.id, User.handle)}
    await record_event(ids["ana"], ids["lucia"], "requested", reason="met_in_person")
    await record_event(ids["lucia"], ids["ana"], "accepted", reason="met_in_person")
    await record_event(ids["jonas"], ids["ana"], "requested", reason="read_your_work")
    await record_event(ids["ana"], ids["jonas"], "accepted", reason="read_your_work")
    await record_event(ids["ana"], ids["jonas"], "met_claimed")
    return ids


async def test_my_contacts_export_as_vcard_with_reason_and_trust(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await contacts_of_ana(client, new_client, sign_up)
    response = await client.get("/api/v1/contacts/export.vcf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vcard; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    cards = {card.fn.value: card for card in vobject.readComponents(response.text)}
    assert set(cards) == {"Jonas", "Lucia"}
    jonas = cards["Jonas"]
    assert jonas.x_desvirt_trust.value == "met"
    assert jonas.x_desvirt_reason.value == "read_your_work"
    assert jonas.url.value == "http://testserver.local/u/jonas"
    assert "Razón" in jonas.note.value  # Ana reads Spanish
    assert "lucia@example.org" not in response.text


async def test_my_contacts_export_as_csv_and_import_back_as_the_same_people(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await contacts_of_ana(client, new_client, sign_up)
    response = await client.get("/api/v1/contacts/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "Name,Handle,Profile URL,Trust,Reason,Since,Meetings"
    assert lines[1].startswith("Jonas,jonas,http://testserver.local/u/jonas,met,read_your_work,")
    assert (await upload(client, response.content, "desvirt-contacts.csv")).json()["added"] == 2
    vcard = (await client.get("/api/v1/contacts/export.vcf")).content
    assert (await upload(client, vcard, "desvirt-contacts.vcf")).json()["added"] == 0
    assert await names_in_book(client) == ["Jonas", "Lucia"]


# --- the page -----------------------------------------------------------------------------


async def test_the_import_page_works_without_javascript(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    page = await client.get("/contacts/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert '<label for="file">' in page.text
    assert 'name="file"' in page.text
    assert "/api/v1/contacts/export.vcf" in page.text
    response = await client.post(
        "/contacts/import",
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("Connections.csv", CONNECTIONS, "text/csv")},
    )
    assert response.status_code == 303
    done = await client.get(response.headers["location"])
    assert "2 new" in done.text
    assert "Lucía Fernández" in done.text
    assert "Acme, S.L." in done.text


async def test_the_page_lists_bad_lines_next_to_the_field_and_imports_nothing(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana", locale="de")
    page = await client.get("/contacts/import")
    response = await client.post(
        "/contacts/import",
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("Connections.csv", CONNECTIONS + b",,,,,,x\r\n", "text/csv")},
    )
    assert response.status_code == 422
    assert 'id="file-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Zeile 7:" in response.text
    assert "Diese Person hat keinen Namen." in response.text
    assert await AddressBookEntry.count() == 0


async def test_on_desvirt_links_lead_to_the_profile_and_entries_can_be_removed(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    await sign_up(await new_client(), "lucia")
    await upload(client, CONNECTIONS)
    page = await client.get("/contacts/import")
    assert 'href="/u/lucia"' in page.text
    entry = (
        await AddressBookEntry.select(AddressBookEntry.id)
        .where(AddressBookEntry.name == "Jonas Weber")
        .first()
    )
    assert entry is not None
    removed = await client.post(
        f"/contacts/import/{entry['id']}/delete", data={"_csrf_token": csrf_token(page.text)}
    )
    assert removed.status_code == 303
    assert "Jonas Weber" not in (await client.get("/contacts/import")).text
