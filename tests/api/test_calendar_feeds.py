"""Calendar feeds as calendar apps see them: parsed by icalendar and by vobject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
import vobject
from litestar import Litestar, Request, Response, get

from desvirt.accounts.tables import User
from desvirt.calendar.api import meetup_feed_response
from desvirt.calendar.domain import QuietHours, is_quiet
from desvirt.meetups.tables import Meetup, Rsvp
from tests.conftest import ClientFactory, QueryLog, SignUp

NOW = datetime.now(UTC).replace(microsecond=0)


def soon(days: float = 7, hours: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours)


async def user(handle: str) -> User:
    found = await User.objects().where(User.handle == handle).first()
    assert found is not None
    return found


async def meetup(host: User, slug: str, **values: Any) -> Meetup:
    starts_at = values.pop("starts_at", soon())
    row = Meetup(
        slug=slug,
        host=host.id,
        title=values.pop("title", slug.replace("-", " ").capitalize()),
        description=values.pop("description", "Tapas y charla."),
        starts_at=starts_at,
        ends_at=values.pop("ends_at", starts_at + timedelta(hours=2)),
        timezone=values.pop("timezone", "Europe/Madrid"),
        venue_name=values.pop("venue_name", "Bar Pepe"),
        venue_address=values.pop("venue_address", "Calle Mayor 1, Madrid"),
        created_at=values.pop("created_at", NOW - timedelta(days=3)),
        updated_at=values.pop("updated_at", NOW - timedelta(days=2)),
        **values,
    )
    await row.save()
    return row


async def answer(meetup_row: Meetup, person: User, status: str, **values: Any) -> None:
    response = {"going": "yes", "waitlisted": "yes", "maybe": "maybe", "declined": "no"}
    await Rsvp(
        meetup=meetup_row.id,
        user=person.id,
        response=response.get(status, "yes"),
        status=status,
        updated_at=values.pop("updated_at", NOW - timedelta(days=1)),
        **values,
    ).save()


async def feed_path(client: httpx.AsyncClient) -> str:
    me = (await client.get("/api/v1/me")).json()
    return "/" + me["feed_url"].split("://", 1)[1].split("/", 1)[1]


def parse(body: bytes) -> tuple[icalendar.Calendar, Any]:
    """Both parsers must accept the feed; return both readings."""
    return icalendar.Calendar.from_ical(body), vobject.readOne(body.decode())


def events_by_url(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["URL"]).rsplit("/", 1)[1]: event for event in calendar.walk("VEVENT")}


def check_wire_format(body: bytes) -> None:
    """CRLF everywhere, lines folded at 75 octets, a VTIMEZONE for every TZID used."""
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
    used = set(re.findall(rb"TZID=([^:;]+)", body))
    defined = set(re.findall(rb"^TZID:(.+)$", body.replace(b"\r\n", b"\n"), re.MULTILINE))
    assert used <= defined, used - defined


async def test_my_feed_holds_what_i_host_and_answered_marked_as_such(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    lucia_client, mateo_client = await new_client(), await new_client()
    await sign_up(lucia_client, "lucia", timezone="Europe/Madrid")
    await sign_up(mateo_client, "mateo", timezone="America/Bogota")
    lucia, mateo = await user("lucia"), await user("mateo")
    await meetup(lucia, "tapas-lucia")
    going = await meetup(mateo, "cena-going", timezone="America/Bogota")
    maybe = await meetup(mateo, "cena-maybe", starts_at=soon(8))
    waiting = await meetup(mateo, "cena-waiting", starts_at=soon(9), capacity=1)
    declined = await meetup(mateo, "cena-declined", starts_at=soon(10))
    await meetup(mateo, "not-mine", starts_at=soon(11))
    await answer(going, lucia, "going")
    await answer(maybe, lucia, "maybe")
    await answer(waiting, lucia, "waitlisted", waitlist_position=2)
    await answer(declined, lucia, "declined")

    response = await lucia_client.get(await feed_path(lucia_client))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-disposition" not in response.headers
    check_wire_format(response.content)
    calendar, reading = parse(response.content)
    events = events_by_url(calendar)
    assert set(events) == {"tapas-lucia", "cena-going", "cena-maybe", "cena-waiting"}
    assert len(reading.vevent_list) == 4
    assert events["tapas-lucia"]["STATUS"] == "CONFIRMED"
    assert events["cena-going"]["STATUS"] == "CONFIRMED"
    assert events["cena-maybe"]["STATUS"] == "TENTATIVE"
    assert events["cena-waiting"]["STATUS"] == "TENTATIVE"
    assert str(events["cena-waiting"]["SUMMARY"]).startswith("Waitlisted (#2): ")
    assert "waitlist" in str(events["cena-waiting"]["DESCRIPTION"])
    assert events["cena-waiting"]["X-DESVIRT-RSVP"] == "waitlisted"
    assert str(calendar["X-WR-CALNAME"]) == "Desvirt: Lucia"
    assert "REFRESH-INTERVAL" in calendar and "X-PUBLISHED-TTL" in calendar
    tapas = events["tapas-lucia"]
    assert str(tapas["URL"]) == "http://testserver.local/m/tapas-lucia"
    assert str(tapas["LOCATION"]) == "Bar Pepe, Calle Mayor 1, Madrid"
    assert str(tapas["UID"]) == f"meetup-{(await meetup_id('tapas-lucia'))}@testserver.local"
    assert tapas["ORGANIZER"].params["CN"] == "Lucia"
    assert tapas["DTSTART"].dt.tzinfo is not None
    assert str(tapas["DTSTART"].params["TZID"]) == "Europe/Madrid"
    assert tapas["SEQUENCE"] == 0
    assert tapas["LAST-MODIFIED"].dt == NOW - timedelta(days=2)
    assert tapas["DTSTAMP"].dt == NOW - timedelta(days=2)
    # vobject reads the same times
    by_uid = {str(v.uid.value): v for v in reading.vevent_list}
    assert by_uid[str(tapas["UID"])].dtstart.value == tapas["DTSTART"].dt


async def meetup_id(slug: str) -> int:
    row = await Meetup.select(Meetup.id).where(Meetup.slug == slug).first()
    assert row is not None
    return int(row["id"])


async def test_an_unchanged_feed_is_byte_identical_and_answers_304_without_building(
    client: httpx.AsyncClient, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "lucia")
    await meetup(await user("lucia"), "tapas")
    path = await feed_path(client)

    first = await client.get(path)
    second = await client.get(path)
    assert first.content == second.content
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag == second.headers["etag"]

    queries.clear()
    by_etag = await client.get(path, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    # one statement from the token to the feed's version: no event row is read
    assert queries.count == 1
    assert not any("description" in statement.lower() for statement in queries.statements)

    by_date = await client.get(path, headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304
    stale = await client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


async def test_an_edit_bumps_sequence_and_the_feed_changes(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    row = await meetup(await user("lucia"), "tapas")
    path = await feed_path(client)
    before = await client.get(path)

    edited_at = NOW - timedelta(minutes=5)
    await Meetup.update(
        {Meetup.sequence: 1, Meetup.title: "Tapas, moved", Meetup.updated_at: edited_at}
    ).where(Meetup.id == row.id)

    after = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    [event] = icalendar.Calendar.from_ical(after.content).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert str(event["SUMMARY"]) == "Tapas, moved"
    assert event["LAST-MODIFIED"].dt == edited_at
    stale = await client.get(path, headers={"If-Modified-Since": before.headers["last-modified"]})
    assert stale.status_code == 200


@dataclass
class GuestFeed:
    """Lucía going to Mateo's cena, and her feed as her calendar app last fetched it."""

    lucia: httpx.AsyncClient
    mateo: httpx.AsyncClient
    cena: Meetup
    path: str
    before: httpx.Response

    async def poll(self) -> httpx.Response:
        return await self.lucia.get(
            self.path, headers={"If-None-Match": self.before.headers["etag"]}
        )


async def guest_feed(new_client: ClientFactory, sign_up: SignUp) -> GuestFeed:
    lucia, mateo = await new_client(), await new_client()
    await sign_up(lucia, "lucia")
    await sign_up(mateo, "mateo")
    cena = await meetup(await user("mateo"), "cena")
    await answer(cena, await user("lucia"), "going")
    path = await feed_path(lucia)
    return GuestFeed(lucia, mateo, cena, path, await lucia.get(path))


async def test_a_declined_answer_changes_the_feed_version(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    feed = await guest_feed(new_client, sign_up)

    await Rsvp.update({Rsvp.status: "declined", Rsvp.updated_at: NOW}).where(
        Rsvp.meetup == feed.cena.id
    )

    after = await feed.poll()
    assert after.status_code == 200
    assert icalendar.Calendar.from_ical(after.content).walk("VEVENT") == []


async def test_a_host_who_changes_their_name_changes_their_guests_feeds(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    feed = await guest_feed(new_client, sign_up)
    [event] = icalendar.Calendar.from_ical(feed.before.content).walk("VEVENT")
    assert event["ORGANIZER"].params["CN"] == "Mateo"

    renamed = await feed.mateo.patch("/api/v1/me", json={"display_name": "Mateo Rodríguez"})
    assert renamed.status_code == 200, renamed.text

    after = await feed.poll()
    assert after.status_code == 200
    [event] = icalendar.Calendar.from_ical(after.content).walk("VEVENT")
    assert event["ORGANIZER"].params["CN"] == "Mateo Rodríguez"


async def test_cancelled_meetups_stay_thirty_days_as_cancelled(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    lucia = await user("lucia")
    await meetup(
        lucia,
        "recently-cancelled",
        status="cancelled",
        cancelled_at=NOW - timedelta(days=2),
        sequence=3,
    )
    await meetup(lucia, "long-cancelled", status="cancelled", cancelled_at=NOW - timedelta(days=31))
    response = await client.get(await feed_path(client))
    events = events_by_url(parse(response.content)[0])
    assert set(events) == {"recently-cancelled"}
    assert events["recently-cancelled"]["STATUS"] == "CANCELLED"
    assert events["recently-cancelled"]["SEQUENCE"] == 3
    assert events["recently-cancelled"].walk("VALARM") == []


async def test_alarms_never_fall_in_quiet_hours(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up(client, "kenji", timezone="Asia/Tokyo")
    await client.patch(
        "/api/v1/me",
        json={
            "quiet_hours": {"start": "21:00", "end": "09:00"},
            "reminder_offsets_minutes": [1440, 120, 30],
        },
    )
    kenji = await user("kenji")
    # 10:00 in Madrid is 18:00 in Tokyo; 08:00 Madrid is 16:00 Tokyo, and so on
    for hour in range(0, 24, 3):
        start = datetime(2027, 3, 28, hour, 0, tzinfo=UTC)  # Europe's spring-forward day
        await meetup(kenji, f"at-{hour}", starts_at=start)
    response = await client.get(await feed_path(client))
    calendar, _ = parse(response.content)
    quiet = QuietHours.parse("21:00", "09:00")
    alarms = 0
    for event in calendar.walk("VEVENT"):
        start = event["DTSTART"].dt.astimezone(UTC)
        triggers = [alarm["TRIGGER"].dt for alarm in event.walk("VALARM")]
        assert triggers and len(set(triggers)) == len(triggers)
        for trigger in triggers:
            assert trigger <= timedelta(0)
            assert not is_quiet(start + trigger, quiet, "Asia/Tokyo")
            alarms += 1
    assert alarms >= 8
    # exact hours, never nominal days, so DST changes cannot shift an alarm
    assert b"TRIGGER:-PT" in response.content
    assert not re.search(rb"TRIGGER:-?P\d+D", response.content)


async def test_text_cannot_inject_properties(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up(client, "lucia")
    evil = 'Cena\r\nATTENDEE:mailto:spy@example.org\nEND:VEVENT\nBEGIN:VEVENT;x="'
    await meetup(
        await user("lucia"),
        "evil",
        title=evil,
        description="Line one\nDTSTART:19700101T000000Z, with; specials \\ backslash",
        venue_name="Bar; Pepe",
    )
    response = await client.get(await feed_path(client))
    check_wire_format(response.content)
    calendar, reading = parse(response.content)
    [event] = calendar.walk("VEVENT")
    assert "ATTENDEE" not in event
    assert str(event["SUMMARY"]) == evil.replace("\r\n", "\n")
    assert "specials \\ backslash" in str(event["DESCRIPTION"])
    assert len(reading.vevent_list) == 1


async def test_long_and_accented_text_folds_at_75_octets(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    description = "Año nuevo, cañas y ñoquis en Málaga 🎉 " * 20
    await meetup(await user("lucia"), "long", description=description, timezone="America/Santiago")
    response = await client.get(await feed_path(client))
    check_wire_format(response.content)
    [event] = parse(response.content)[0].walk("VEVENT")
    assert description.strip() in str(event["DESCRIPTION"])


async def test_rotating_the_feed_token_retires_the_old_url(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    old = await feed_path(client)
    assert (await client.get(old)).status_code == 200
    rotated = await client.post("/api/v1/me/feed-token")
    assert rotated.status_code == 200
    new = "/" + rotated.json()["feed_url"].split("://", 1)[1].split("/", 1)[1]
    assert new != old
    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200
    assert (await client.get("/cal/not-a-token.ics")).status_code == 404
    assert (await client.get("/cal/" + "x" * 500 + ".ics")).status_code == 404


async def test_a_thousand_events_cost_the_same_queries_as_two(
    client: httpx.AsyncClient, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "lucia")
    lucia = await user("lucia")
    await meetup(lucia, "first")
    await meetup(lucia, "second")
    path = await feed_path(client)
    queries.clear()
    assert (await client.get(path)).status_code == 200
    with_two = queries.count

    rows = [
        Meetup(
            slug=f"m-{index}",
            host=lucia.id,
            title=f"Meetup {index}",
            starts_at=soon(hours=index),
            ends_at=soon(hours=index + 1),
            timezone=("Europe/Madrid", "Asia/Tokyo", "UTC")[index % 3],
            updated_at=NOW,
        )
        for index in range(998)
    ]
    for start in range(0, len(rows), 200):
        await Meetup.insert(*rows[start : start + 200])
    queries.clear()
    response = await client.get(path)
    assert response.status_code == 200
    assert queries.count == with_two
    assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == 1000


async def test_the_public_feed_lists_upcoming_public_meetups_only(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    lucia = await user("lucia")
    await meetup(lucia, "public-soon")
    await meetup(lucia, "public-past", starts_at=NOW - timedelta(days=3))
    await meetup(lucia, "unlisted", visibility="unlisted")
    await meetup(lucia, "contacts-only", visibility="contacts")
    await meetup(
        lucia, "public-cancelled", status="cancelled", cancelled_at=NOW - timedelta(days=1)
    )
    anonymous = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with anonymous:
        response = await anonymous.get("/cal/public.ics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        check_wire_format(response.content)
        events = events_by_url(parse(response.content)[0])
        assert set(events) == {"public-soon", "public-cancelled"}
        assert events["public-cancelled"]["STATUS"] == "CANCELLED"
        again = await anonymous.get(
            "/cal/public.ics", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304


def feed_app(app: Litestar) -> Litestar:
    """The meetup page hands `/m/{slug}.ics` to the calendar; mimic that dispatch here."""

    @get("/test-feeds/m/{slug:str}", include_in_schema=False)
    async def dispatch(request: Request[Any, Any, Any], slug: str) -> Response[bytes]:
        return await meetup_feed_response(request, slug.removesuffix(".ics"))

    app.register(dispatch)
    return app


async def test_a_meetup_feed_respects_the_meetups_visibility(
    app: Litestar, new_client: ClientFactory, sign_up: SignUp
) -> None:
    feed_app(app)
    host_client, stranger_client, anonymous = (
        await new_client(),
        await new_client(),
        await new_client(),
    )
    await sign_up(host_client, "lucia")
    await sign_up(stranger_client, "stranger")
    lucia = await user("lucia")
    await meetup(lucia, "open", latitude=40.4168, longitude=-3.7038)
    await meetup(lucia, "by-link", visibility="unlisted")
    await meetup(lucia, "friends", visibility="contacts")

    response = await anonymous.get("/test-feeds/m/open.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-disposition" not in response.headers
    check_wire_format(response.content)
    calendar, reading = parse(response.content)
    [event] = calendar.walk("VEVENT")
    assert event["GEO"].latitude == 40.4168
    assert event.walk("VALARM"), "anonymous readers get the default reminders"
    assert reading.vevent.summary.value == "Open"
    again = await anonymous.get(
        "/test-feeds/m/open.ics", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304

    assert (await anonymous.get("/test-feeds/m/by-link.ics")).status_code == 200
    assert (await anonymous.get("/test-feeds/m/friends.ics")).status_code == 404
    assert (await stranger_client.get("/test-feeds/m/friends.ics")).status_code == 404
    assert (await host_client.get("/test-feeds/m/friends.ics")).status_code == 200
    assert (await anonymous.get("/test-feeds/m/nothing-here.ics")).status_code == 404


async def test_the_meetup_page_hands_ics_paths_to_the_calendar(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    host_client, anonymous = await new_client(), await new_client()
    await sign_up(host_client, "lucia")
    starts_at = soon(5)
    created = await host_client.post(
        "/api/v1/meetups",
        json={
            "title": "Cañas; with, specials",
            "description": "Hola",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
            "timezone": "America/Bogota",
            "visibility": "public",
        },
    )
    assert created.status_code == 201, created.text
    ics_url = created.json()["ics_url"]
    path = "/" + ics_url.split("://", 1)[1].split("/", 1)[1]
    response = await anonymous.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    check_wire_format(response.content)
    calendar, reading = parse(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Cañas; with, specials"
    assert reading.vevent.summary.value == "Cañas; with, specials"
    assert str(event["DTSTART"].params["TZID"]) == "America/Bogota"
    assert (await anonymous.get("/m/no-such-meetup.ics")).status_code == 404
