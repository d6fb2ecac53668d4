"""Met in person in the browser, without JavaScript: the checklist, handshakes, confirmations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from desvirt.contacts import service as contacts
from desvirt.contacts.tables import ContactEvent
from desvirt.met.tables import Handshake
from tests.api.test_met_in_person import Join, Person, claim, connect, join, meetup
from tests.conftest import csrf_token

__all__ = ["join"]  # the fixture, shared with the API tests

HTML = {"accept": "text/html"}
CODE = re.compile(r'class="handshake-code">([0-9A-Z]{4}-[0-9A-Z]{4})<')


async def page(person: Person, path: str, **headers: str) -> httpx.Response:
    return await person.client.get(path, headers={**HTML, **headers})


async def submit(
    person: Person, path: str, form_page: str, data: dict[str, object]
) -> httpx.Response:
    body = {**data, "_csrf_token": csrf_token(form_page)}
    return await person.client.post(path, data=body, headers=HTML)


async def test_the_checklist_page_lists_who_was_there_and_saves_ticks(join: Join) -> None:
    host, ana, ben, carla = [await join(h) for h in ("host", "ana", "ben", "carla")]
    await connect(ana, ben)
    slug = await meetup(host, ana, ben, carla, checked_in=(carla,))
    shown = await page(ana, f"/m/{slug}/met")
    assert shown.status_code == 200
    text = shown.text
    assert text.index("Carla") < text.index("Ben") < text.index("Host")
    assert 'name="met" value="ben"' in text and 'for="met-ben"' in text
    saved = await submit(ana, f"/m/{slug}/met", text, {"met": ["ben", "carla"]})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/m/{slug}/met?saved=1"
    again = await page(ana, f"/m/{slug}/met?saved=1")
    assert 'value="ben" checked' in again.text and 'value="carla" checked' in again.text
    assert await contacts.trust_level(ana.id, ben.id) == "met"
    ben_view = await page(ben, f"/m/{slug}/met")
    assert "Says you met" in ben_view.text


async def test_the_checklist_page_is_a_404_to_people_who_were_not_there(join: Join) -> None:
    host, ana, carla = [await join(h) for h in ("host", "ana", "carla")]
    slug = await meetup(host, ana)
    response = await page(carla, f"/m/{slug}/met")
    assert response.status_code == 404
    assert "<html" in response.text


async def test_before_the_meetup_the_checklist_says_to_come_back(join: Join) -> None:
    host, ana = await join("host"), await join("ana", locale="es")
    slug = await meetup(host, ana, starts_in=timedelta(days=2))
    response = await page(ana, f"/m/{slug}/met")
    assert response.status_code == 200
    assert '<html lang="es">' in response.text
    assert "¿A quién conociste?" in response.text
    assert 'name="met"' not in response.text


async def test_a_handshake_face_to_face_in_the_browser(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    shown = await page(ana, "/handshake")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    assert "<svg" in shown.text
    match = CODE.search(shown.text)
    assert match
    code = match.group(1)
    confirm = await page(ben, f"/handshake/{code}")
    assert confirm.status_code == 200
    assert "Ana" in confirm.text
    done = await submit(ben, f"/handshake/{code}", confirm.text, {})
    assert done.status_code == 200
    assert "verified contacts" in done.text
    assert await contacts.trust_level(ana.id, ben.id) == "verified"
    used = await submit(ben, f"/handshake/{code}", confirm.text, {})
    assert used.status_code == 409
    assert "already used" in used.text


async def test_typing_a_code_leads_to_its_confirmation_and_a_bad_one_is_shown_next_to_the_field(
    join: Join,
) -> None:
    ana, ben = await join("ana"), await join("ben")
    match = CODE.search((await page(ana, "/handshake")).text)
    assert match
    form = await page(ben, "/handshake")
    typed = await submit(ben, "/handshake/enter", form.text, {"code": match.group(1).lower()})
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/handshake/{match.group(1)}"
    bad = await submit(ben, "/handshake/enter", form.text, {"code": "hello!"})
    assert bad.status_code == 422
    assert 'id="code-error"' in bad.text
    assert 'value="hello!"' in bad.text


async def test_viewing_the_handshake_again_keeps_the_code_someone_may_be_typing(
    join: Join,
) -> None:
    ana, ben = await join("ana"), await join("ben")
    first = CODE.search((await page(ana, "/handshake")).text)
    assert first
    reloaded = await page(ana, "/handshake")
    assert CODE.search(reloaded.text).group(1) == first.group(1)  # type: ignore[union-attr]
    assert "Valid for 5 minutes" in reloaded.text
    mistyped = await submit(ana, "/handshake/enter", reloaded.text, {"code": "nope"})
    assert mistyped.status_code == 422
    assert CODE.search(mistyped.text).group(1) == first.group(1)  # type: ignore[union-attr]

    confirm = await page(ben, f"/handshake/{first.group(1)}")
    assert confirm.status_code == 200
    assert (await submit(ben, f"/handshake/{first.group(1)}", confirm.text, {})).status_code == 200
    after_use = CODE.search((await page(ana, "/handshake")).text)
    assert after_use and after_use.group(1) != first.group(1)  # a used code is not shown again


async def test_a_new_handshake_code_on_request_retires_the_one_shown(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    shown = await page(ana, "/handshake")
    first = CODE.search(shown.text)
    assert first and 'href="/handshake?new"' in shown.text
    fresh = CODE.search((await page(ana, "/handshake?new")).text)
    assert fresh and fresh.group(1) != first.group(1)
    assert (await page(ben, f"/handshake/{first.group(1)}")).status_code == 404
    assert (await page(ben, f"/handshake/{fresh.group(1)}")).status_code == 200


async def test_a_handshake_code_about_to_expire_is_replaced_when_shown(join: Join) -> None:
    ana = await join("ana")
    first = CODE.search((await page(ana, "/handshake")).text)
    assert first
    soon = datetime.now(UTC) + timedelta(seconds=90)
    await Handshake.update({Handshake.expires_at: soon}).where(Handshake.issuer == ana.id)
    replaced = CODE.search((await page(ana, "/handshake")).text)
    assert replaced and replaced.group(1) != first.group(1)


async def test_signed_out_visitors_are_sent_to_log_in_and_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/handshake/ABCD-EFGH", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/handshake/ABCD-EFGH"


async def test_the_other_person_sees_a_confirm_button_and_confirming_verifies(join: Join) -> None:
    host, ana, ben = [await join(h) for h in ("host", "ana", "ben")]
    await connect(ana, ben)
    slug = await meetup(host, ana, ben)
    await claim(ana, ben, meetup_slug=slug)
    shown = await page(ben, "/handshake")
    assert "Did you meet them?" in shown.text
    assert 'action="/contacts/ana/met"' in shown.text
    confirmed = await submit(ben, "/contacts/ana/met", shown.text, {"next": "/handshake"})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/handshake"
    assert await contacts.trust_level(ben.id, ana.id) == "verified"
    claims = await ContactEvent.select(ContactEvent.meetup).where(
        ContactEvent.kind == "met_claimed"
    )
    assert len({row["meetup"] for row in claims}) == 1
    assert "Did you meet them?" not in (await page(ben, "/handshake")).text


async def test_retracting_from_a_page(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben)
    form = await page(ana, "/handshake")
    response = await submit(ana, "/contacts/ben/met/retract", form.text, {"next": "//evil"})
    assert response.status_code == 303
    assert response.headers["location"] == "/u/ben"
    assert await contacts.trust_level(ana.id, ben.id) == "online"


async def test_a_contacts_page_offers_to_confirm_their_claim_and_then_to_take_mine_back(
    join: Join,
) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben, met_on="2026-05-01")
    profile = await page(ben, "/u/ana")
    assert "Ana says you met in person." in profile.text
    assert 'action="/contacts/ana/met"' in profile.text
    confirmed = await submit(ben, "/contacts/ana/met", profile.text, {"next": "/u/ana"})
    assert confirmed.headers["location"] == "/u/ana"
    assert await contacts.trust_level(ben.id, ana.id) == "verified"
    after = await page(ben, "/u/ana")
    assert "You both said you met in person." in after.text
    assert 'action="/contacts/ana/met/retract"' in after.text


async def test_confirming_tells_on_the_next_page_why_no_contact_request_went_out(
    join: Join,
) -> None:
    host, ana, ben = [await join(h) for h in ("host", "ana", "ben")]
    charter = {"accepted_reasons": ["ongoing_exchange"], "require_message": True}
    for person in (ana, ben):
        assert (await person.client.patch("/api/v1/me", json={"charter": charter})).is_success
    slug = await meetup(host, ana, ben)
    await claim(ben, ana, meetup_slug=slug)  # his request to her: declined by her charter
    shown = await page(ana, "/handshake")
    assert 'action="/contacts/ben/met"' in shown.text
    confirmed = await submit(ana, "/contacts/ben/met", shown.text, {"next": "/handshake"})
    assert confirmed.headers["location"] == "/handshake"
    after = await page(ana, "/handshake")
    assert "Ben does not accept contact requests for the reason" in after.text
    assert "does not accept" not in (await page(ana, "/handshake")).text  # said once


async def test_saying_we_met_from_a_contacts_page_with_a_day(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    profile = await page(ana, "/u/ben")
    assert 'name="met_on" type="date"' in profile.text
    said = await submit(ana, "/contacts/ben/met", profile.text, {"met_on": "2026-05-01"})
    assert said.status_code == 303
    assert await contacts.trust_level(ana.id, ben.id) == "met"
    assert "has not confirmed yet" in (await page(ana, "/u/ben")).text
    assert "Carla" not in (await page(ana, "/u/ben")).text


async def test_the_contact_list_shows_who_waits_for_a_confirmation(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben)
    listing = await page(ben, "/contacts")
    assert "Did you meet them?" in listing.text
    assert 'action="/contacts/ana/met"' in listing.text
    assert "Did you meet them?" not in (await page(ana, "/contacts")).text


async def test_the_checklist_page_says_whose_charter_declined_the_contact_request(
    join: Join,
) -> None:
    host, ana = await join("host"), await join("ana")
    ben = await join("ben", locale="de")
    carla = await join("carla", locale="es")
    refusing = {"charter": {"accepted_reasons": ["client_or_partner"]}}
    assert (await ben.client.patch("/api/v1/me", json=refusing)).status_code == 200
    slug = await meetup(host, ana, ben, carla)
    form = (await page(ana, f"/m/{slug}/met")).text
    saved = await submit(ana, f"/m/{slug}/met", form, {"met": ["ben", "carla"]})
    assert saved.status_code == 200
    assert "Saved. Trust is updated for both of you." in saved.text
    assert "@ben: Ben does not accept contact requests" in saved.text
    assert "@carla:" not in saved.text  # her request went out
    assert 'value="ben" checked' in saved.text
    assert await contacts.trust_level(ana.id, ben.id) == "none"
    assert await ContactEvent.count().where(ContactEvent.kind == "met_claimed") == 2

    form = (await page(carla, f"/m/{slug}/met")).text
    spanish = await submit(carla, f"/m/{slug}/met", form, {"met": ["ben"]})
    assert spanish.status_code == 200
    assert "@ben: Ben no acepta" in spanish.text, spanish.text


async def test_the_attendee_list_shows_how_well_i_know_each_person(join: Join) -> None:
    host, ana, ben, carla = [await join(h) for h in ("host", "ana", "ben", "carla")]
    await connect(ana, ben)
    slug = await meetup(host, ana, ben, carla)
    await claim(ana, ben, meetup_slug=slug)
    await claim(ben, ana, meetup_slug=slug)

    def line_of(html: str, handle: str) -> str:
        return next(li for li in html.split("<li>") if f"@{handle}</small>" in li)

    seen_by_ana = (await page(ana, f"/m/{slug}")).text
    assert "✔ Verified in person" in line_of(seen_by_ana, "ben")
    assert 'class="trust' not in line_of(seen_by_ana, "carla")
    seen_by_carla = (await page(carla, f"/m/{slug}")).text
    assert 'class="trust' not in line_of(seen_by_carla, "ben")
