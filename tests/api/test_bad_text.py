"""Refused before any handler: text no database can store, page numbers past any list, and
API changes sent from other sites with the session cookie."""

from __future__ import annotations

import json

import httpx

from desvirt.meetups.tables import Meetup
from tests.api.test_meetup_pages import form_values
from tests.api.test_meetups import host_meetup, meetup_body
from tests.conftest import SignUp, csrf_token

Client = httpx.AsyncClient
HTML = {"accept": "text/html"}
NUL_MESSAGE = "Text cannot contain the invisible NUL character (U+0000)."


async def test_a_nul_character_in_json_is_refused_and_nothing_is_stored(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    refused = await client.post("/api/v1/meetups", json=meetup_body(title="Cañas\u0000"))
    assert refused.status_code == 400
    assert refused.json() == {"detail": NUL_MESSAGE, "code": "invalid_text"}
    assert await Meetup.count() == 0

    # A backslash and "u0000" typed as text are just text.
    typed = await client.post("/api/v1/meetups", json=meetup_body(title="Escape \\u0000"))
    assert typed.status_code == 201, typed.text
    assert (await client.get(f"/api/v1/meetups/{typed.json()['slug']}")).json()[
        "title"
    ] == "Escape \\u0000"


async def test_a_nul_character_in_a_form_gets_a_page_in_the_readers_language(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana", locale="es")
    form = await client.get("/m/new", headers=HTML)
    fields = {"_csrf_token": csrf_token(form.text), "title": "Cañas\u0000", "timezone": "UTC"}
    refused = await client.post("/m/new", data=fields, headers=HTML)
    assert refused.status_code == 400
    assert "El texto no puede contener el carácter invisible NUL (U+0000)." in refused.text
    assert await Meetup.count() == 0


async def test_a_nul_character_in_a_path_or_query_is_refused(
    client: Client, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    for path in (f"/api/v1/meetups/{slug}%00", "/api/v1/contacts?q=ana%00"):
        refused = await client.get(path)
        assert refused.status_code == 400, path
        assert refused.json()["code"] == "invalid_text"
    page = await client.get("/contacts?q=%00", headers=HTML)
    assert page.status_code == 400
    assert NUL_MESSAGE in page.text
    assert (await client.get(f"/m/{slug}", headers=HTML)).status_code == 200


async def test_a_page_number_past_any_list_shows_an_empty_page(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    page = await client.get("/contacts?page=99999999999999999999", headers=HTML)
    assert page.status_code == 200
    assert "Contacts found: 0" in page.text
    too_far = await client.get("/api/v1/contacts?page=99999999999999999999")
    assert too_far.status_code in (400, 422)
    assert too_far.json()["code"] in ("bad_request", "invalid_input")
    requests = await client.get("/api/v1/contacts/requests?page=1000000")
    assert requests.status_code == 200
    assert requests.json() == []


async def test_a_nul_character_in_a_multipart_form_field_is_refused_too(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    form = await client.get("/m/new", headers=HTML)
    fields = {**form_values(title="Cañas\u0000"), "_csrf_token": csrf_token(form.text)}
    refused = await client.post(
        "/m/new", data=fields, files={"unused": ("a.txt", b"x")}, headers=HTML
    )
    assert refused.status_code == 400
    assert NUL_MESSAGE in refused.text
    assert await Meetup.count() == 0


async def test_a_cross_site_post_to_the_api_with_the_session_cookie_is_refused(
    client: Client, sign_up: SignUp
) -> None:
    """What a form on another site (or a sibling subdomain) would send: nothing changes."""
    await sign_up(client, "ana")
    for site in ("cross-site", "same-site"):
        refused = await client.post(
            "/api/v1/meetups",
            content=json.dumps(meetup_body()),
            headers={"content-type": "text/plain", "sec-fetch-site": site},
        )
        assert refused.status_code == 403, site
        assert refused.json()["code"] == "csrf_failed"
    assert await Meetup.count() == 0

    # The same post from this site, from a script, or with a token goes through.
    from_here = await client.post(
        "/api/v1/meetups", json=meetup_body(), headers={"sec-fetch-site": "same-origin"}
    )
    assert from_here.status_code == 201
    assert (await client.post("/api/v1/meetups", json=meetup_body())).status_code == 201
    token = (await client.post("/api/v1/auth/tokens", json={"name": "script"})).json()["token"]
    with_token = await client.post(
        "/api/v1/meetups",
        json=meetup_body(),
        headers={"authorization": f"Bearer {token}", "sec-fetch-site": "cross-site"},
    )
    assert with_token.status_code == 201
    assert await Meetup.count() == 3
