"""Mail through the outbox to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import icalendar
import pytest
import vobject
from aiosmtpd.controller import Controller

from desvirt.accounts.tables import User
from desvirt.calendar.domain import QuietHours, is_quiet, reminder_times
from desvirt.meetups.tables import Meetup
from desvirt.notifications import service as notifications
from desvirt.notifications.tables import OutboxMessage
from desvirt.settings import Settings
from tests.conftest import ClientFactory, SignUp

PORTS = range(8420, 8500)


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    for port in PORTS:
        with contextlib.closing(socket.socket()) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the test SMTP server")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, str]) -> Settings:
    return dataclasses.replace(settings, smtp_url=smtp[1], mail_from="Desvirt <hola@desvirt.test>")


def later(days: float = 7, hours: float = 0) -> str:
    moment = datetime.now(UTC) + timedelta(days=days, hours=hours)
    return moment.replace(microsecond=0).isoformat()


async def host_meetup(client: httpx.AsyncClient, **changes: Any) -> str:
    body: dict[str, Any] = {
        "title": "Cañas #desvirt",
        "description": "Nos vemos.",
        "starts_at": later(7),
        "ends_at": later(7, 3),
        "timezone": "Europe/Madrid",
        "venue": {"name": "Bar Pepe", "address": "Calle Mayor 1, Madrid"},
        "capacity": 1,
        "visibility": "public",
        **changes,
    }
    response = await client.post("/api/v1/meetups", json=body)
    assert response.status_code == 201, response.text
    slug: str = response.json()["slug"]
    return slug


async def people(
    new_client: ClientFactory, sign_up: SignUp, *handles: str, **extra: Any
) -> list[httpx.AsyncClient]:
    clients = []
    for handle in handles:
        client = await new_client()
        await sign_up(client, handle, **extra)
        clients.append(client)
    return clients


async def deliver_all(settings: Settings) -> None:
    while await notifications.send_due(settings):
        pass


def calendar_part(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part
    return None


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


async def test_a_seat_comes_as_an_invitation_and_the_waitlist_as_a_plain_note(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben, carla = await people(new_client, sign_up, "ana", "ben", "carla")
    slug = await host_meetup(ana)
    assert (await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})).json()[
        "status"
    ] == "going"
    assert (await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})).json()[
        "status"
    ] == "waitlisted"

    await deliver_all(mail_settings)

    [seat] = inbox.to("ben@example.org")
    assert seat["Subject"] == "You have a seat: Cañas #desvirt"
    part = calendar_part(seat)
    assert part is not None
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    ics = part.get_payload(decode=True)
    assert isinstance(ics, bytes)
    invitation = icalendar.Calendar.from_ical(ics)
    assert invitation["METHOD"] == "REQUEST"
    [event] = invitation.walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:ben@example.org"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(event["ORGANIZER"]) == "mailto:hola@desvirt.test"
    assert vobject.readOne(ics.decode()).vevent.summary.value == "Cañas #desvirt"
    assert seat["List-Unsubscribe"].strip().startswith("<http://testserver.local/unsubscribe/")

    [waiting] = inbox.to("carla@example.org")
    assert waiting["Subject"] == "You are on the waitlist (#1): Cañas #desvirt"
    assert "not a confirmed seat" in text_of(waiting)
    assert calendar_part(waiting) is None, "no invitation that reads as a seat"


async def test_a_freed_seat_invites_the_first_on_the_waitlist(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben, carla = await people(new_client, sign_up, "ana", "ben", "carla")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await deliver_all(mail_settings)
    inbox.messages.clear()

    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"})
    await deliver_all(mail_settings)

    [gone] = inbox.to("ben@example.org")
    cancel = calendar_part(gone)
    assert cancel is not None and cancel.get_param("method") == "CANCEL"
    [promoted] = inbox.to("carla@example.org")
    assert promoted["Subject"] == "A seat freed up: you are going to Cañas #desvirt"
    request = calendar_part(promoted)
    assert request is not None and request.get_param("method") == "REQUEST"


async def test_edits_and_cancellation_reach_everyone_as_imip(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben, carla = await people(new_client, sign_up, "ana", "ben", "carla")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await deliver_all(mail_settings)
    inbox.messages.clear()

    edited = await ana.patch(f"/api/v1/meetups/{slug}", json={"title": "Cañas, new bar"})
    assert edited.status_code == 200, edited.text
    await deliver_all(mail_settings)
    [update] = inbox.to("ben@example.org")
    part = calendar_part(update)
    assert part is not None and part.get_param("method") == "REQUEST"
    ics = part.get_payload(decode=True)
    assert isinstance(ics, bytes)
    [event] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    [note] = inbox.to("carla@example.org")
    assert calendar_part(note) is None
    assert "still on the waitlist" in text_of(note)
    inbox.messages.clear()

    assert (await ana.post(f"/api/v1/meetups/{slug}/cancel")).status_code == 200
    await deliver_all(mail_settings)
    [cancelled] = inbox.to("ben@example.org")
    assert cancelled["Subject"] == "Cancelled: Cañas, new bar"
    part = calendar_part(cancelled)
    assert part is not None and part.get_param("method") == "CANCEL"
    ics = part.get_payload(decode=True)
    assert isinstance(ics, bytes)
    calendar = icalendar.Calendar.from_ical(ics)
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    [told] = inbox.to("carla@example.org")
    assert calendar_part(told) is None


async def test_mail_speaks_the_recipients_language(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    [ana] = await people(new_client, sign_up, "ana")
    [lena] = await people(new_client, sign_up, "lena", locale="de", timezone="Europe/Berlin")
    [mateo] = await people(new_client, sign_up, "mateo", locale="es")
    slug = await host_meetup(ana, capacity=1)
    await lena.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await mateo.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await deliver_all(mail_settings)
    [german] = inbox.to("lena@example.org")
    assert german["Content-Language"] == "de"
    assert "Platz" in german["Subject"]
    [spanish] = inbox.to("mateo@example.org")
    assert "lista de espera" in spanish["Subject"]


async def test_reminders_are_planned_outside_quiet_hours_once(
    new_client: ClientFactory, sign_up: SignUp
) -> None:
    ana, ben = await people(new_client, sign_up, "ana", "ben")
    await ben.patch(
        "/api/v1/me",
        json={
            "timezone": "Asia/Tokyo",
            "quiet_hours": {"start": "21:00", "end": "09:00"},
            "reminder_offsets_minutes": [1440, 120],
        },
    )
    slug = await host_meetup(ana, starts_at=later(5), ends_at=later(5, 2))
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    meetup = await Meetup.objects().where(Meetup.slug == slug).first()
    assert meetup is not None
    ben_row = await User.objects().where(User.handle == "ben").first()
    assert ben_row is not None

    async def planned() -> list[datetime]:
        rows = await OutboxMessage.select(OutboxMessage.due_at).where(
            (OutboxMessage.kind == "reminder") & (OutboxMessage.recipient == ben_row.id)
        )
        return sorted(row["due_at"] for row in rows)

    expected = reminder_times(
        meetup.starts_at, [1440, 120], QuietHours.parse("21:00", "09:00"), "Asia/Tokyo"
    )
    assert await planned() == expected
    for moment in expected:
        assert not is_quiet(moment, QuietHours.parse("21:00", "09:00"), "Asia/Tokyo")
    await notifications.schedule_reminders(meetup.id)
    await notifications.schedule_reminders(meetup.id)
    assert await planned() == expected, "planning again changes nothing"

    new_start = meetup.starts_at + timedelta(hours=5)
    await ana.patch(
        f"/api/v1/meetups/{slug}",
        json={
            "starts_at": new_start.isoformat(),
            "ends_at": (new_start + timedelta(hours=2)).isoformat(),
        },
    )
    moved = reminder_times(new_start, [1440, 120], QuietHours.parse("21:00", "09:00"), "Asia/Tokyo")
    assert await planned() == moved

    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "no"})
    assert await planned() == []


async def test_a_due_reminder_is_mailed(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben = await people(new_client, sign_up, "ana", "ben")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await deliver_all(mail_settings)
    inbox.messages.clear()
    await notifications.send_due(mail_settings, now=datetime.now(UTC) + timedelta(days=6, hours=1))
    [reminder] = inbox.to("ben@example.org")
    assert reminder["Subject"].startswith("Reminder: Cañas #desvirt")


async def test_mail_is_retried_with_backoff_while_the_server_is_down(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben = await people(new_client, sign_up, "ana", "ben")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    down = dataclasses.replace(mail_settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")

    assert await notifications.send_due(down) == 0
    [row] = await OutboxMessage.objects().where(OutboxMessage.kind == "seat")
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert row.due_at > datetime.now(UTC) + timedelta(seconds=30)
    assert await notifications.outbox_depth() >= 1

    assert await notifications.send_due(mail_settings) == 0, "not due again yet"
    assert await notifications.send_due(mail_settings, now=row.due_at) == 1
    assert len(inbox.to("ben@example.org")) == 1
    [row] = await OutboxMessage.objects().where(OutboxMessage.kind == "seat")
    assert row.sent_at is not None and row.attempts == 2


async def test_several_workers_send_each_message_once(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    [ana] = await people(new_client, sign_up, "ana")
    slug = await host_meetup(ana, capacity=100)
    guests = await people(new_client, sign_up, *(f"guest{index}" for index in range(25)))
    for guest in guests:
        await guest.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})

    async def worker() -> None:
        await deliver_all(mail_settings)

    await asyncio.gather(*(worker() for _ in range(4)))
    ids = [message["Message-ID"] for message in inbox.messages]
    assert len(ids) == 25
    assert len(set(ids)) == 25
    assert (
        await OutboxMessage.count().where(
            (OutboxMessage.kind == "seat") & OutboxMessage.sent_at.is_null()
        )
        == 0
    )


async def test_the_unsubscribe_link_works_without_logging_in(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    ana, ben = await people(new_client, sign_up, "ana", "ben")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await deliver_all(mail_settings)
    [seat] = inbox.to("ben@example.org")
    match = re.search(r"http://testserver\.local(/unsubscribe/\S+)", text_of(seat))
    assert match
    path = match.group(1)
    inbox.messages.clear()

    stranger = await new_client()
    page = await stranger.get(path)
    assert page.status_code == 200
    assert "Cañas #desvirt" in page.text
    done = await stranger.post(path)
    assert done.status_code == 200
    assert (await stranger.get(path[:-3] + "abc")).status_code == 404

    await ana.patch(f"/api/v1/meetups/{slug}", json={"title": "Cañas, later"})
    await deliver_all(mail_settings)
    assert inbox.to("ben@example.org") == []


async def test_without_an_smtp_url_mail_is_logged_not_sent(
    new_client: ClientFactory, sign_up: SignUp, settings: Settings, caplog: Any
) -> None:
    ana, ben = await people(new_client, sign_up, "ana", "ben")
    slug = await host_meetup(ana)
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    before = await notifications.outbox_depth()
    with caplog.at_level("INFO", logger="desvirt.mail"):
        assert await notifications.send_due(settings) == 1
    assert "You have a seat" in caplog.text
    assert await notifications.outbox_depth() == before - 1


async def test_a_met_claim_prompts_the_other_person_once(
    new_client: ClientFactory, sign_up: SignUp, smtp: tuple[Inbox, str], mail_settings: Settings
) -> None:
    inbox = smtp[0]
    await people(new_client, sign_up, "ana", "ben")
    ana = await User.objects().where(User.handle == "ana").first()
    ben = await User.objects().where(User.handle == "ben").first()
    assert ana is not None and ben is not None
    await notifications.met_claimed(ana.id, ben.id)
    await notifications.met_claimed(ana.id, ben.id)
    await deliver_all(mail_settings)
    [prompt] = inbox.to("ben@example.org")
    assert prompt["Subject"] == "Ana says you met in person"
    assert "http://testserver.local/u/ana" in text_of(prompt)
