"""Meetup pages as a browser without JavaScript sees them: forms, buttons, lists, tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Request, Response

from desvirt.accounts.tables import User
from desvirt.calendar import api as calendar_api
from desvirt.contacts import service as contacts
from desvirt.meetups.tables import Invitation, Meetup, Rsvp
from tests.api.test_meetups import host_meetup, meetup_body, person
from tests.conftest import ClientFactory, QueryLog, SignUp, csrf_token

Client = httpx.AsyncClient
HTML = {"accept": "text/html"}


def local(days: int, hours: int = 19) -> str:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.strftime(f"%Y-%m-%dT{hours:02d}:00")


def form_values(**changes: str) -> dict[str, str]:
    values = {
        "title": "Stammtisch #desvirt Berlin",
        "description": "Wir treffen uns im *Biergarten*.",
        "starts_at": local(10, 18),
        "ends_at": local(10, 21),
        "timezone": "Europe/Berlin",
        "venue_name": "Prater Garten",
        "venue_address": "Kastanienallee 7, Berlin",
        "latitude": "52.5400",
        "longitude": "13.4100",
        "online_url": "",
        "capacity": "20",
        "visibility": "public",
        "contacts_min_trust": "online",
    }
    values.update(changes)
    return values


async def post_form(client: Client, path: str, data: dict[str, str], page: str) -> httpx.Response:
    html = (await client.get(page, headers=HTML)).text
    return await client.post(path, data={**data, "_csrf_token": csrf_token(html)}, headers=HTML)


async def test_a_host_creates_a_meetup_with_the_form_and_lands_on_its_page(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "jonas", timezone="Europe/Berlin", locale="de")
    response = await post_form(client, "/m/new", form_values(), "/m/new")
    assert response.status_code == 303
    slug = response.headers["location"].split("/m/")[1].split("?")[0]
    assert slug.startswith("stammtisch-desvirt-berlin-")
    page = await client.get(f"/m/{slug}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="de">' in html
    assert '<meta property="og:title" content="Stammtisch #desvirt Berlin">' in html
    assert f'<meta property="og:url" content="http://testserver.local/m/{slug}">' in html
    assert "<em>Biergarten</em>" in html
    assert 'href="https://www.openstreetmap.org/?mlat=52.540000' in html
    assert f'href="http://testserver.local/m/{slug}.ics"' in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "18:00" in html  # shown in the meetup's zone, as typed
    stored = await Meetup.select(Meetup.starts_at, Meetup.venue_name).first()
    assert stored is not None and stored["venue_name"] == "Prater Garten"


async def test_a_refused_form_shows_the_message_next_to_the_field_and_keeps_the_input(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia", locale="es")
    values = form_values(ends_at=local(10, 17), capacity="-2", title="Cañas en Sol")
    response = await post_form(client, "/m/new", values, "/m/new")
    assert response.status_code == 422
    html = response.text
    assert 'id="ends_at-error"' in html
    assert "El final debe ser posterior al inicio." in html
    assert 'id="capacity-error"' in html
    assert 'value="Cañas en Sol"' in html
    assert await Meetup.count() == 0


async def test_rsvp_buttons_work_without_javascript(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=1)
    ben = await person(new_client, sign_up, "ben")
    html = (await ben.get(f"/m/{slug}", headers=HTML)).text
    for value in ("yes", "maybe", "no"):
        assert f'<button name="response" value="{value}"' in html
    answered = await post_form(
        ben, f"/m/{slug}/rsvp", {"response": "yes", "guests": "0"}, f"/m/{slug}"
    )
    assert answered.status_code == 303
    page = await ben.get(answered.headers["location"], headers=HTML)
    assert "You are going. See you there!" in page.text
    assert f'href="/m/{slug}/ticket"' in page.text

    carla = await person(new_client, sign_up, "carla")
    answered = await post_form(carla, f"/m/{slug}/rsvp", {"response": "yes"}, f"/m/{slug}")
    page = await carla.get(answered.headers["location"], headers=HTML)
    assert "you are on the waitlist" in page.text
    assert "position 1" in page.text


async def test_an_rsvp_that_does_not_fit_is_explained_on_the_page(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=2)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    refused = await post_form(
        ben, f"/m/{slug}/rsvp", {"response": "yes", "guests": "4"}, f"/m/{slug}"
    )
    assert refused.status_code == 409
    assert "Not enough seats for that many guests. Seats still free: 1." in refused.text


async def test_the_ics_path_is_handed_to_the_calendar_feature(
    client: Client, sign_up: SignUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await host_meetup(client, sign_up)
    asked: list[str] = []

    async def feed(request: Request[Any, Any, Any], slug: str) -> Response[bytes]:
        asked.append(slug)
        return Response(b"BEGIN:VCALENDAR", media_type="text/calendar")

    monkeypatch.setattr(calendar_api, "meetup_feed_response", feed)
    response = await client.get(f"/m/{slug}.ics")
    assert response.status_code == 200
    assert response.text == "BEGIN:VCALENDAR"
    assert asked == [slug]


async def test_the_front_page_lists_upcoming_public_meetups_only(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    for title, visibility in (("Open tapas", "public"), ("Secret tapas", "unlisted")):
        await client.post("/api/v1/meetups", json=meetup_body(title=title, visibility=visibility))
    old = (await client.post("/api/v1/meetups", json=meetup_body(title="Old tapas"))).json()
    past = datetime.now(UTC) - timedelta(days=2)
    await Meetup.update({Meetup.starts_at: past, Meetup.ends_at: past + timedelta(hours=1)}).where(
        Meetup.slug == old["slug"]
    )
    await client.get("/logout")
    client.cookies.clear()
    html = (await client.get("/", headers=HTML)).text
    assert "Open tapas" in html
    assert "Secret tapas" not in html
    assert "Old tapas" not in html


async def test_an_unlisted_meetup_is_reachable_by_its_link(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, visibility="unlisted")
    stranger = await new_client()
    assert (await stranger.get(f"/m/{slug}", headers=HTML)).status_code == 200


async def test_a_contacts_only_meetup_is_a_404_to_strangers_and_open_to_the_invited(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, visibility="contacts")
    anonymous = await new_client()
    assert (await anonymous.get(f"/m/{slug}", headers=HTML)).status_code == 404
    ben = await person(new_client, sign_up, "ben")
    assert (await ben.get(f"/api/v1/meetups/{slug}")).status_code == 404
    assert (
        await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    ).status_code == 404
    assert (await client.get(f"/m/{slug}", headers=HTML)).status_code == 200

    meetup = await Meetup.select(Meetup.id).first()
    ben_row = await User.select(User.id).where(User.handle == "ben").first()
    assert meetup is not None and ben_row is not None
    await Invitation.insert(Invitation(meetup=meetup["id"], user=ben_row["id"]))
    assert (await ben.get(f"/m/{slug}", headers=HTML)).status_code == 200


async def test_contacts_at_the_required_trust_see_a_contacts_only_meetup(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, visibility="contacts", contacts_min_trust="met")
    ben = await person(new_client, sign_up, "ben")
    ids = {r["handle"]: r["id"] for r in await User.select(User.id, User.handle)}
    await contacts.record_event(ids["ben"], ids["ana"], "requested", reason="read_your_work")
    await contacts.record_event(ids["ana"], ids["ben"], "accepted")
    assert (await ben.get(f"/api/v1/meetups/{slug}")).status_code == 404  # online < met
    await contacts.record_event(ids["ana"], ids["ben"], "met_claimed")
    assert (await ben.get(f"/api/v1/meetups/{slug}")).status_code == 200


async def test_a_blocked_person_sees_a_404_even_for_a_public_meetup(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    ids = {r["handle"]: r["id"] for r in await User.select(User.id, User.handle)}
    await contacts.record_event(ids["ana"], ids["ben"], "blocked")
    assert (await ben.get(f"/m/{slug}", headers=HTML)).status_code == 404
    assert (await ben.get(f"/api/v1/meetups/{slug}")).status_code == 404


async def test_attendees_who_hide_themselves_are_listed_only_for_the_host(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=10)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes", "visible": False})

    seen_by_ben = {a["handle"] for a in (await ben.get(f"/api/v1/meetups/{slug}/attendees")).json()}
    assert seen_by_ben == {"ben"}
    seen_by_host = (await client.get(f"/api/v1/meetups/{slug}/attendees")).json()
    assert {a["handle"] for a in seen_by_host} == {"ben", "carla"}
    anonymous = await new_client()
    assert (await anonymous.get(f"/api/v1/meetups/{slug}/attendees")).json() == []
    html = (await anonymous.get(f"/m/{slug}", headers=HTML)).text
    assert "2 people going" in html and "@carla" not in html

    shown = await post_form(carla, f"/m/{slug}/visibility", {"visible": "1"}, f"/m/{slug}")
    assert shown.status_code == 303
    seen_by_ben = {a["handle"] for a in (await ben.get(f"/api/v1/meetups/{slug}/attendees")).json()}
    assert seen_by_ben == {"ben", "carla"}


async def test_the_host_approves_and_declines_pending_answers(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, requires_approval=True, capacity=2)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    answer = await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes", "guests": 1})
    assert answer.json() == {"status": "pending_approval", "guests": 1}
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    html = (await client.get(f"/m/{slug}", headers=HTML)).text
    assert f'action="/m/{slug}/attendees/ben/approve"' in html

    assert (await ben.post(f"/api/v1/meetups/{slug}/attendees/ben/approve")).status_code == 403
    approved = await post_form(client, f"/m/{slug}/attendees/ben/approve", {}, f"/m/{slug}")
    assert approved.status_code == 303
    assert (await ben.get(f"/api/v1/meetups/{slug}")).json()["my_rsvp"]["status"] == "going"
    declined = await client.post(f"/api/v1/meetups/{slug}/attendees/carla/decline")
    assert declined.json()["status"] == "declined"


async def test_a_going_attendee_has_a_ticket_whose_qr_opens_the_hosts_check_in(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    assert (await ben.get(f"/m/{slug}/ticket", headers=HTML)).status_code == 404
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    ticket = await ben.get(f"/m/{slug}/ticket", headers=HTML)
    assert ticket.status_code == 200
    assert "<svg" in ticket.text
    assert f"http://testserver.local/m/{slug}/checkin/ben" in ticket.text

    assert (await ben.get(f"/m/{slug}/checkin/ben", headers=HTML)).status_code == 403
    confirm = await client.get(f"/m/{slug}/checkin/ben", headers=HTML)
    assert confirm.status_code == 200 and "Check in Ben" in confirm.text
    done = await post_form(client, f"/m/{slug}/checkin/ben", {}, f"/m/{slug}/checkin/ben")
    assert done.status_code == 303
    row = await Rsvp.select(Rsvp.checked_in_at).first()
    assert row is not None and row["checked_in_at"] is not None
    attendees = (await client.get(f"/api/v1/meetups/{slug}/attendees")).json()
    assert attendees[0]["checked_in"] is True


async def test_check_in_through_the_api_is_for_the_host_and_people_going(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "maybe"})
    refused = await client.post(f"/api/v1/meetups/{slug}/checkin/ben")
    assert refused.status_code == 409 and refused.json()["code"] == "not_going"
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    assert (await ben.post(f"/api/v1/meetups/{slug}/checkin/ben")).status_code == 403
    checked = await client.post(f"/api/v1/meetups/{slug}/checkin/ben")
    assert checked.status_code == 200 and checked.json()["handle"] == "ben"


async def test_editing_keeps_the_slug_bumps_the_sequence_and_refuses_strangers(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=3)
    before = (await client.get(f"/api/v1/meetups/{slug}")).json()
    edited = await client.patch(f"/api/v1/meetups/{slug}", json={"title": "Cañas y tapas"})
    assert edited.status_code == 200
    after = edited.json()
    assert after["slug"] == slug and after["title"] == "Cañas y tapas"
    assert after["sequence"] == before["sequence"] + 1
    assert after["updated_at"] > before["updated_at"]

    ben = await person(new_client, sign_up, "ben")
    refused = await ben.patch(f"/api/v1/meetups/{slug}", json={"title": "Mine now"})
    assert refused.status_code == 403
    assert (await ben.get(f"/m/{slug}/edit", headers=HTML)).status_code == 403
    assert (await ben.post(f"/api/v1/meetups/{slug}/cancel")).status_code == 403
    assert (await client.get(f"/api/v1/meetups/{slug}")).json()["title"] == "Cañas y tapas"


async def test_capacity_below_the_people_going_is_refused_with_a_clear_message(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=3)
    for handle in ("ben", "carla"):
        other = await person(new_client, sign_up, handle)
        await other.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    refused = await client.patch(f"/api/v1/meetups/{slug}", json={"capacity": 1})
    assert refused.status_code == 422
    assert refused.json()["field"] == "capacity"
    assert "seats people going already take: 2" in refused.json()["detail"]
    page = await post_form(
        client, f"/m/{slug}/edit", form_values(capacity="1", title="Keep me"), f"/m/{slug}/edit"
    )
    assert page.status_code == 422
    assert 'id="capacity-error"' in page.text and 'value="Keep me"' in page.text
    meetup = (await client.get(f"/api/v1/meetups/{slug}")).json()
    assert meetup["capacity"] == 3 and meetup["sequence"] == 0


async def test_bad_edits_change_nothing(client: Client, sign_up: SignUp) -> None:
    slug = await host_meetup(client, sign_up)
    for change in (
        {"timezone": "Nowhere/City"},
        {"visibility": "everyone"},
        {"capacity": -5},
        {"ends_at": "2020-01-01T00:00:00+00:00"},
    ):
        refused = await client.patch(f"/api/v1/meetups/{slug}", json=change)
        assert refused.status_code == 422, change
    assert (await client.get(f"/api/v1/meetups/{slug}")).json()["sequence"] == 0


async def test_growing_capacity_seats_the_waitlist(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=1)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await client.patch(f"/api/v1/meetups/{slug}", json={"capacity": 2})
    assert (await carla.get(f"/api/v1/meetups/{slug}")).json()["my_rsvp"]["status"] == "going"


async def test_cancelling_shows_on_the_page_and_in_the_api(client: Client, sign_up: SignUp) -> None:
    slug = await host_meetup(client, sign_up)
    cancelled = await post_form(client, f"/m/{slug}/cancel", {}, f"/m/{slug}")
    assert cancelled.status_code == 303
    meetup = (await client.get(f"/api/v1/meetups/{slug}")).json()
    assert meetup["status"] == "cancelled" and meetup["cancelled_at"] is not None
    assert meetup["sequence"] == 1
    html = (await client.get(f"/m/{slug}", headers=HTML)).text
    assert "This meetup was cancelled." in html
    assert 'name="response"' not in html


async def add_attendees(meetup_id: int, first: int, last: int) -> None:
    """Bulk-insert people going (numbered first..last-1) straight into the tables."""
    await User.insert(
        *(
            User(
                email=f"guest{i}@example.org",
                handle=f"guest{i}",
                display_name=f"Guest {i}",
                password_hash="-",
                feed_nonce=f"n{i}",
                feed_token_hash=f"h{i}",
            )
            for i in range(first, last)
        )
    )
    rows = await User.select(User.id).where(User.handle.like("guest%")).order_by(User.id)
    ids = [row["id"] for row in rows][first:last]
    await Rsvp.insert(
        *(Rsvp(meetup=meetup_id, user=uid, response="yes", status="going") for uid in ids)
    )
    await Meetup.update({Meetup.seats_taken: last}).where(Meetup.id == meetup_id)


async def test_the_meetup_page_costs_the_same_queries_with_2_or_500_attendees(
    client: Client, sign_up: SignUp, queries: QueryLog
) -> None:
    slug = await host_meetup(client, sign_up, capacity=None)
    meetup = await Meetup.select(Meetup.id).first()
    assert meetup is not None
    counts = {}
    for first, size in ((0, 2), (2, 500)):
        await add_attendees(meetup["id"], first, size)
        queries.clear()
        page = await client.get(f"/m/{slug}", headers=HTML)
        assert page.status_code == 200
        assert page.text.count("@guest") == size  # the host sees everyone
        counts[size] = queries.count
    assert counts[2] == counts[500], queries.statements
    assert counts[500] <= 6, queries.statements


async def test_an_attendee_sees_everyone_going_in_five_queries(
    client: Client, new_client: ClientFactory, sign_up: SignUp, queries: QueryLog
) -> None:
    """Session, viewer, meetup with host, blocks, attendees with the viewer's trust."""
    slug = await host_meetup(client, sign_up, capacity=None)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    meetup = await Meetup.select(Meetup.id).first()
    assert meetup is not None
    await add_attendees(meetup["id"], 0, 300)
    queries.clear()
    page = await ben.get(f"/m/{slug}", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("@guest") == 300
    assert queries.count == 5, queries.statements


async def test_the_host_edits_with_the_form_and_the_page_shows_the_change(
    client: Client, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    form = (await client.get(f"/m/{slug}/edit", headers=HTML)).text
    assert 'value="Cañas #desvirt Madrid"' in form
    assert 'name="starts_at" type="datetime-local"' in form
    changed = form_values(title="Cañas y tapas", timezone="Europe/Madrid", capacity="")
    saved = await post_form(client, f"/m/{slug}/edit", changed, f"/m/{slug}/edit")
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"/m/{slug}")
    meetup = (await client.get(f"/api/v1/meetups/{slug}")).json()
    assert meetup["title"] == "Cañas y tapas"
    assert meetup["capacity"] is None
    assert meetup["venue"]["name"] == "Prater Garten"
    assert meetup["sequence"] == 1


async def test_the_meetup_page_speaks_german_and_shows_the_viewers_own_time_zone(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up)
    jonas = await new_client()
    await sign_up(jonas, "jonas", locale="de", timezone="America/New_York")
    html = (await jonas.get(f"/m/{slug}", headers=HTML)).text
    assert '<html lang="de">' in html
    assert "Kommst du?" in html
    assert "In deiner Zeitzone (America/New_York):" in html
    assert '<button name="response" value="yes">Ja, ich komme</button>' in html


async def test_counts_read_right_for_one_and_for_many_in_english_and_spanish(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=2)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    home = (await ben.get("/", headers=HTML)).text
    assert "1 seat left" in home
    visitor = await new_client()
    page = (await visitor.get(f"/m/{slug}", headers=HTML)).text
    assert "1 person going. Answer to see who is coming." in page
    spanish = {**HTML, "accept-language": "es"}
    page = (await visitor.get(f"/m/{slug}", headers=spanish)).text
    assert "Va 1 persona. Responde para ver quién viene." in page

    carla = await person(new_client, sign_up, "carla")
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    assert "full, waitlist open" in (await carla.get("/", headers=HTML)).text
    # carla's profile says English; a visitor's browser asks for Spanish
    assert "completo, con lista de espera" in (await visitor.get("/", headers=spanish)).text


async def test_a_meetup_without_a_limit_counts_one_seat_taken(
    client: Client, sign_up: SignUp
) -> None:
    slug = await host_meetup(client, sign_up, capacity=None)
    page = (await client.get(f"/m/{slug}", headers=HTML)).text
    assert "0 seats taken; no limit." in page
    await client.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    page = (await client.get(f"/m/{slug}", headers=HTML)).text
    assert "1 seat taken; no limit." in page
