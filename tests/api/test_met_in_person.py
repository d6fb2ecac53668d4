"""Met in person through the JSON API: claims, confirmations, the checklist, handshakes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from desvirt.accounts.tables import User
from desvirt.app import create_app
from desvirt.contacts import service as contacts
from desvirt.contacts.tables import Contact, ContactEvent, ContactRequest
from desvirt.meetups.tables import Meetup, Rsvp
from desvirt.met.tables import Handshake
from desvirt.notifications import service as notifications
from desvirt.settings import Settings
from tests.conftest import Backend, ClientFactory, QueryLog, SignUp, open_client

_slugs = itertools.count()


@dataclass
class Person:
    id: int
    handle: str
    client: httpx.AsyncClient


Join = Callable[..., Awaitable[Person]]


@pytest.fixture
def join(new_client: ClientFactory, sign_up: SignUp) -> Join:
    async def join_as(handle: str, **extra: Any) -> Person:
        browser = await new_client()
        profile = await sign_up(browser, handle, **extra)
        user = await User.select(User.id).where(User.handle == profile["handle"]).first()
        assert user is not None
        return Person(int(user["id"]), handle, browser)

    return join_as


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every met-claim prompt the notifications outbox was asked to send."""
    sent: list[tuple[int, int]] = []

    async def record(claimer_id: int, other_id: int) -> None:
        sent.append((claimer_id, other_id))

    monkeypatch.setattr(notifications, "met_claimed", record)
    return sent


async def connect(one: Person, other: Person, reason: str = "ongoing_exchange") -> None:
    await contacts.record_event(one.id, other.id, "requested", reason=reason)
    await contacts.record_event(other.id, one.id, "accepted", reason=reason)


async def meetup(
    host: Person,
    *attendees: Person,
    starts_in: timedelta = timedelta(hours=-3),
    checked_in: tuple[Person, ...] = (),
    status: str = "going",
) -> str:
    """A meetup with these people going (and some checked in by the host)."""
    slug = f"afterwork-{next(_slugs)}"
    starts_at = datetime.now(UTC) + starts_in
    row = Meetup(
        slug=slug,
        host=host.id,
        title="Afterwork #desvirt",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        timezone="Europe/Madrid",
    )
    await row.save()
    for person in attendees:
        await Rsvp.insert(
            Rsvp(
                meetup=row.id,
                user=person.id,
                response="yes",
                status=status,
                checked_in_at=datetime.now(UTC) if person in checked_in else None,
            )
        )
    return slug


async def claim(person: Person, other: Person, **body: Any) -> httpx.Response:
    return await person.client.post(f"/api/v1/contacts/{other.handle}/met", json=body)


# --- claims and confirmations -------------------------------------------------------------


async def test_one_claim_is_met_and_the_other_sides_confirmation_is_verified(
    join: Join, prompts: list[tuple[int, int]]
) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    first = await claim(ana, ben, met_on="2026-05-01")
    assert first.status_code == 200, first.text
    assert first.json() == {"trust": "met"}
    record = (await ben.client.get("/api/v1/contacts/ana/met")).json()
    assert record["trust"] == "met"
    assert record["their_claim"] == {"meetup_slug": None, "met_on": "2026-05-01"}
    assert record["my_claim"] is None
    waiting = (await ben.client.get("/api/v1/met/prompts")).json()
    assert [p["handle"] for p in waiting] == ["ana"]
    second = await claim(ben, ana, met_on="2026-05-01")
    assert second.json() == {"trust": "verified"}
    assert await contacts.trust_level(ana.id, ben.id) == "verified"
    assert (await ben.client.get("/api/v1/met/prompts")).json() == []
    assert prompts == [(ana.id, ben.id)]


async def test_claims_about_different_days_stay_met(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben, met_on="2026-05-01")
    assert (await claim(ben, ana, met_on="2026-06-01")).json() == {"trust": "met"}


async def test_the_other_person_is_prompted_once_whatever_is_claimed_again(
    join: Join, prompts: list[tuple[int, int]]
) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben)
    await claim(ana, ben)
    await ana.client.delete("/api/v1/contacts/ben/met")
    await claim(ana, ben, met_on="2026-05-02")
    assert prompts == [(ana.id, ben.id)]
    claims = await ContactEvent.count().where(ContactEvent.kind == "met_claimed")
    assert claims == 2  # the repeated identical claim added nothing


async def test_retracting_recomputes_trust_from_the_history(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await claim(ana, ben)
    await claim(ben, ana)
    retracted = await ben.client.delete("/api/v1/contacts/ana/met")
    assert retracted.status_code == 200
    assert retracted.json() == {"trust": "met"}
    assert (await ana.client.delete("/api/v1/contacts/ben/met")).json() == {"trust": "online"}
    again = await ana.client.delete("/api/v1/contacts/ben/met")
    assert again.status_code == 409
    assert again.json()["code"] == "no_met_claim"
    kinds = [r["kind"] for r in await ContactEvent.select(ContactEvent.kind)]
    assert kinds.count("met_claimed") == 2 and kinds.count("met_retracted") == 2


async def test_a_met_claim_with_a_non_contact_outside_a_shared_meetup_is_refused(
    join: Join,
) -> None:
    ana, ben = await join("ana"), await join("ben")
    refused = await claim(ana, ben)
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_a_contact"
    other_meetup = await meetup(ana, ana)
    not_there = await claim(ana, ben, meetup_slug=other_meetup)
    assert not_there.status_code == 422
    assert not_there.json()["field"] == "meetup_slug"
    assert await ContactEvent.count() == 0


async def test_claims_about_the_future_are_refused(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    future_day = await claim(ana, ben, met_on=tomorrow)
    assert future_day.status_code == 422
    assert future_day.json()["field"] == "met_on"
    upcoming = await meetup(ana, ana, ben, starts_in=timedelta(days=3))
    future_meetup = await claim(ana, ben, meetup_slug=upcoming)
    assert future_meetup.status_code == 422
    assert future_meetup.json()["field"] == "meetup_slug"
    assert "not happened yet" in future_meetup.json()["detail"]
    assert await contacts.trust_level(ana.id, ben.id) == "online"


@pytest.mark.parametrize(
    "body",
    [{"met_on": "yesterday"}, {"meetup_slug": 7}, {"where": "bar"}],
)
async def test_malformed_claims_are_422(join: Join, body: dict[str, Any]) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    response = await claim(ana, ben, **body)
    assert response.status_code == 422
    assert set(response.json()) >= {"detail", "code"}


async def test_unknown_people_oneself_and_unknown_meetups(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    assert (await ana.client.post("/api/v1/contacts/nobody/met", json={})).status_code == 404
    myself = await ana.client.post("/api/v1/contacts/ana/met", json={})
    assert myself.status_code == 422
    unknown = await claim(ana, ben, meetup_slug="no-such-meetup")
    assert unknown.status_code == 404
    assert (await ana.client.post("/api/v1/contacts/ben/met")).json() == {"trust": "met"}


async def test_a_claim_naming_a_meetup_must_name_one_of_its_days(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    slug = await meetup(ana, ben, starts_in=timedelta(days=-10))
    wrong = await claim(ana, ben, meetup_slug=slug, met_on="2020-01-01")
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "met_on"


# --- meetups as evidence --------------------------------------------------------------------


async def test_one_claim_is_verified_when_the_host_checked_both_in(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    await connect(ana, ben)
    slug = await meetup(host, ana, ben, checked_in=(ana, ben))
    assert (await claim(ana, ben, meetup_slug=slug)).json() == {"trust": "verified"}
    contact = await Contact.select().where(Contact.owner == ben.id).first()
    assert contact is not None
    assert contact["trust"] == "verified"
    assert contact["meetings"] == 1


async def test_going_without_a_check_in_needs_the_other_sides_confirmation(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    await connect(ana, ben)
    slug = await meetup(host, ana, ben, checked_in=(ana,))
    assert (await claim(ana, ben, meetup_slug=slug)).json() == {"trust": "met"}
    assert (await claim(ben, ana, meetup_slug=slug)).json() == {"trust": "verified"}


async def test_a_claim_at_a_shared_meetup_doubles_as_a_contact_request(
    join: Join, prompts: list[tuple[int, int]]
) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    slug = await meetup(host, ana, ben)
    first = await claim(ana, ben, meetup_slug=slug)
    assert first.status_code == 200, first.text
    assert first.json() == {"trust": "none", "contact_request": "sent"}
    request = await ContactRequest.select().first()
    assert request is not None
    assert (request["sender"], request["recipient"], request["reason"], request["status"]) == (
        ana.id,
        ben.id,
        "met_in_person",
        "pending",
    )
    confirmed = await claim(ben, ana, meetup_slug=slug)
    assert confirmed.json() == {"trust": "verified", "contact_request": "accepted"}
    rows = await Contact.select().where(Contact.owner == ana.id)
    assert [(r["trust"], r["reason"], r["meetings"]) for r in rows] == [
        ("verified", "met_in_person", 1)
    ]
    answered = await ContactRequest.select(ContactRequest.status).first()
    assert answered == {"status": "accepted"}
    assert prompts == [(ana.id, ben.id)]


async def test_a_claim_counts_when_their_charter_declines_the_request_it_would_make(
    join: Join,
) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    charter = {"accepted_reasons": ["ongoing_exchange"], "require_message": True}
    assert (await ben.client.patch("/api/v1/me", json={"charter": charter})).status_code == 200
    slug = await meetup(host, ana, ben)
    answer = await claim(ana, ben, meetup_slug=slug)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "trust": "none",
        "contact_request": "auto_declined",
        "declined_rule": "reason_not_accepted",
        "explanation": "Ben does not accept contact requests for the reason “We have already "
        "met”. Your request was declined automatically.",
    }
    assert await ContactRequest.count() == 0
    record = (await ana.client.get("/api/v1/contacts/ben/met")).json()
    assert record["my_claim"] == {"meetup_slug": slug, "met_on": record["my_claim"]["met_on"]}
    assert [p["handle"] for p in (await ben.client.get("/api/v1/met/prompts")).json()] == ["ana"]


async def test_a_claim_makes_a_request_to_a_charter_that_wants_a_message(join: Join) -> None:
    """The shared meetup is the request's stated why: a met claim has no message to write."""
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    charter = {"accepted_reasons": ["met_in_person"], "require_message": True}
    assert (await ben.client.patch("/api/v1/me", json={"charter": charter})).status_code == 200
    slug = await meetup(host, ana, ben)
    assert (await claim(ana, ben, meetup_slug=slug)).json()["contact_request"] == "sent"


@pytest.mark.parametrize(
    ("limit", "code"),
    [("contact_requests_per_day", "rate_limited"), ("pending_requests_max", "too_many_pending")],
)
async def test_claims_at_a_meetup_obey_the_senders_request_limits(
    db: Backend, settings: Settings, join: Join, sign_up: SignUp, limit: str, code: str
) -> None:
    host, ben, carla, dora = [await join(h) for h in ("host", "ben", "carla", "dora")]
    strict = create_app(replace(settings, **{limit: 2}), engine=db.engine)
    async with open_client(strict) as browser:
        await sign_up(browser, "ana")
        ana_row = await User.select(User.id).where(User.handle == "ana").first()
        assert ana_row is not None
        ana = Person(int(ana_row["id"]), "ana", browser)
        slug = await meetup(host, ana, ben, carla, dora)
        ticked = await browser.post(
            f"/api/v1/meetups/{slug}/met", json={"handles": ["ben", "carla", "dora"]}
        )
    assert ticked.status_code == 200, ticked.text
    people = ticked.json()["people"]
    assert [(p["handle"], p.get("contact_request")) for p in people] == [
        ("ben", "sent"),
        ("carla", "sent"),
        ("dora", "not_sent"),
    ]
    assert people[2]["declined_rule"] == code
    assert "2" in people[2]["explanation"]
    assert await ContactRequest.count() == 2
    assert await ContactEvent.count().where(ContactEvent.kind == "met_claimed") == 3


async def test_a_claim_makes_no_request_inside_the_cooldown_after_their_decline(
    join: Join,
) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    asked = await ana.client.post(
        "/api/v1/contacts/requests",
        json={"to_handle": "ben", "reason": "read_your_work", "message": "I read your talk."},
    )
    assert asked.status_code == 201, asked.text
    await ben.client.post(f"/api/v1/contacts/requests/{asked.json()['id']}/decline")
    slug = await meetup(host, ana, ben)
    answer = (await claim(ana, ben, meetup_slug=slug)).json()
    assert (answer["contact_request"], answer["declined_rule"]) == ("not_sent", "cooldown")
    assert "declined your request" in answer["explanation"]
    assert await ContactRequest.count().where(ContactRequest.status == "pending") == 0
    assert await ContactEvent.count().where(ContactEvent.kind == "met_claimed") == 1


async def test_hosts_count_as_being_at_their_own_meetup(join: Join) -> None:
    host, ana = await join("host"), await join("ana")
    slug = await meetup(host, ana)
    assert (await claim(ana, host, meetup_slug=slug)).json()["contact_request"] == "sent"
    assert (await claim(host, ana, meetup_slug=slug)).json()["trust"] == "verified"


# --- the checklist ----------------------------------------------------------------------


async def test_the_checklist_lists_the_checked_in_first_and_records_claims_in_one_go(
    join: Join,
) -> None:
    host = await join("host")
    ana, ben, carla, dora = [await join(h) for h in ("ana", "ben", "carla", "dora")]
    await connect(ana, ben)
    slug = await meetup(host, ana, ben, carla, dora, checked_in=(ana, dora))
    listed = (await ana.client.get(f"/api/v1/meetups/{slug}/met")).json()
    assert listed["has_begun"] is True
    assert [p["handle"] for p in listed["people"]] == ["dora", "ben", "carla", "host"]
    assert listed["people"][0]["checked_in"] is True
    assert [p["handle"] for p in listed["people"] if p["is_host"]] == ["host"]
    ticked = await ana.client.post(f"/api/v1/meetups/{slug}/met", json={"handles": ["ben", "dora"]})
    assert ticked.status_code == 200, ticked.text
    assert ticked.json()["people"] == [
        {"handle": "ben", "trust": "met"},
        {"handle": "dora", "trust": "none", "contact_request": "sent"},
    ]
    listed = (await ana.client.get(f"/api/v1/meetups/{slug}/met")).json()
    assert {p["handle"] for p in listed["people"] if p["i_claimed"]} == {"ben", "dora"}
    unticked = await ana.client.post(f"/api/v1/meetups/{slug}/met", json={"handles": ["dora"]})
    assert {p["handle"]: p["trust"] for p in unticked.json()["people"]}["ben"] == "online"


async def test_the_checklist_refuses_people_who_were_not_there(join: Join) -> None:
    host, ana = await join("host"), await join("ana")
    await join("ben")
    slug = await meetup(host, ana)
    response = await ana.client.post(f"/api/v1/meetups/{slug}/met", json={"handles": ["ben"]})
    assert response.status_code == 422
    assert "ben" in response.json()["detail"]
    assert await ContactEvent.count() == 0


async def test_the_checklist_waits_until_the_meetup_has_begun(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    slug = await meetup(host, ana, ben, starts_in=timedelta(days=1))
    listed = (await ana.client.get(f"/api/v1/meetups/{slug}/met")).json()
    assert listed["has_begun"] is False
    early = await ana.client.post(f"/api/v1/meetups/{slug}/met", json={"handles": ["ben"]})
    assert early.status_code == 422


# --- privacy -------------------------------------------------------------------------------


async def test_met_records_are_visible_only_to_the_two_people(join: Join) -> None:
    host, ana, ben, carla = (
        await join("host"),
        await join("ana"),
        await join("ben"),
        await join("carla"),
    )
    await connect(ana, ben)
    slug = await meetup(host, ana, ben)
    await claim(ana, ben, meetup_slug=slug)
    assert (await carla.client.get("/api/v1/contacts/ana/met")).status_code == 404
    assert (await carla.client.get("/api/v1/contacts/ben/met")).status_code == 404
    assert (await carla.client.get(f"/api/v1/meetups/{slug}/met")).status_code == 404
    assert (await carla.client.get("/api/v1/met/prompts")).json() == []
    assert (await carla.client.delete("/api/v1/contacts/ana/met")).status_code == 409
    assert (await ben.client.get("/api/v1/contacts/ana/met")).status_code == 200


async def test_blocked_people_look_like_nobody(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    slug = await meetup(host, ana, ben)
    await contacts.record_event(ben.id, ana.id, "blocked")
    assert (await claim(ana, ben, meetup_slug=slug)).status_code == 404
    listed = (await ana.client.get(f"/api/v1/meetups/{slug}/met")).json()
    assert [p["handle"] for p in listed["people"]] == ["host"]


async def test_signed_out_clients_are_401(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/contacts/ana/met", json={})).status_code == 401
    assert (await client.post("/api/v1/handshake")).status_code == 401


# --- handshakes ----------------------------------------------------------------------------


async def test_a_handshake_makes_strangers_verified_contacts_at_once(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    issued = await ana.client.post("/api/v1/handshake")
    assert issued.status_code == 201
    code = issued.json()["code"]
    assert issued.json()["redeem_url"] == f"http://testserver.local/handshake/{code}"
    expires = datetime.fromisoformat(issued.json()["expires_at"])
    assert timedelta(minutes=1) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    redeemed = await ben.client.post(f"/api/v1/handshake/{code.lower().replace('-', '')}")
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json() == {"trust": "verified", "handle": "ana", "display_name": "Ana"}
    rows = await Contact.select().order_by(Contact.owner)
    assert [(r["owner"], r["trust"], r["reason"]) for r in rows] == [
        (ana.id, "verified", "met_in_person"),
        (ben.id, "verified", "met_in_person"),
    ]


async def test_a_handshake_upgrades_an_existing_contact_and_answers_pending_requests(
    join: Join,
) -> None:
    ana, ben = await join("ana"), await join("ben")
    await contacts.record_event(ana.id, ben.id, "requested", reason="read_your_work")
    await ContactRequest.insert(
        ContactRequest(sender=ana.id, recipient=ben.id, reason="read_your_work")
    )
    code = (await ben.client.post("/api/v1/handshake")).json()["code"]
    assert (await ana.client.post(f"/api/v1/handshake/{code}")).json()["trust"] == "verified"
    assert await ContactRequest.select(ContactRequest.status).first() == {"status": "accepted"}


async def test_handshake_codes_are_single_use_and_bound_to_their_issuer(join: Join) -> None:
    ana, ben, carla = await join("ana"), await join("ben"), await join("carla")
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    own = await ana.client.post(f"/api/v1/handshake/{code}")
    assert own.status_code == 409
    assert own.json()["code"] == "own_handshake"
    assert (await ben.client.post(f"/api/v1/handshake/{code}")).status_code == 200
    reused = await carla.client.post(f"/api/v1/handshake/{code}")
    assert reused.status_code == 409
    assert reused.json()["code"] == "handshake_used"
    assert await contacts.trust_level(carla.id, ana.id) == "none"


async def test_a_new_code_replaces_the_unused_one(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    old = (await ana.client.post("/api/v1/handshake")).json()["code"]
    new = (await ana.client.post("/api/v1/handshake")).json()["code"]
    assert (await ben.client.post(f"/api/v1/handshake/{old}")).status_code == 404
    assert (await ben.client.post(f"/api/v1/handshake/{new}")).status_code == 200


async def test_expired_codes_are_refused(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    await Handshake.update({Handshake.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        Handshake.issuer == ana.id
    )
    expired = await ben.client.post(f"/api/v1/handshake/{code}")
    assert expired.status_code == 410
    assert expired.json()["code"] == "handshake_expired"
    assert await contacts.trust_level(ben.id, ana.id) == "none"


async def test_codes_are_stored_hashed(join: Join) -> None:
    ana = await join("ana")
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    stored = await Handshake.select().first()
    assert stored is not None
    assert code not in str(stored) and code.replace("-", "") not in str(stored)


async def test_guessing_codes_is_slowed_with_429_and_retry_after(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    for attempt in range(10):
        wrong = await ben.client.post(f"/api/v1/handshake/ZZZZ-ZZ{attempt:02d}")
        assert wrong.status_code in (404, 422), wrong.text
    limited = await ben.client.post(f"/api/v1/handshake/{code}")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["code"] == "rate_limited"
    assert await contacts.trust_level(ben.id, ana.id) == "none"


async def test_a_malformed_code_is_422(join: Join) -> None:
    ana = await join("ana")
    response = await ana.client.post("/api/v1/handshake/not-a-code!")
    assert response.status_code == 422
    assert response.json()["field"] == "code"


async def test_a_blocked_issuer_looks_like_an_unknown_code(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    await contacts.record_event(ana.id, ben.id, "blocked")
    assert (await ben.client.post(f"/api/v1/handshake/{code}")).status_code == 404


# --- what trust unlocks ----------------------------------------------------------------------


async def test_verified_people_may_propose_where_the_charter_asks_for_it(join: Join) -> None:
    ana, ben = await join("ana"), await join("ben")
    await connect(ana, ben)
    await ben.client.patch("/api/v1/me", json={"charter": {"proposals_from": "verified"}})
    assert not await contacts.may_propose(ana.id, ben.id)
    await claim(ana, ben)
    assert not await contacts.may_propose(ana.id, ben.id)
    await claim(ben, ana)
    assert await contacts.may_propose(ana.id, ben.id)


async def test_a_check_in_after_a_claim_verifies_it(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    await connect(ana, ben)
    slug = await meetup(host, ana, ben)
    assert (await claim(ana, ben, meetup_slug=slug)).json() == {"trust": "met"}
    for person in (ana, ben):
        checked = await host.client.post(f"/api/v1/meetups/{slug}/checkin/{person.handle}")
        assert checked.status_code in (200, 201), checked.text
    assert await contacts.trust_level(ana.id, ben.id) == "verified"
    evidence = await ContactEvent.count().where(ContactEvent.kind == "checked_in_together")
    assert evidence == 1


async def test_contacts_checked_in_together_count_a_meeting(join: Join) -> None:
    host, ana, ben = await join("host"), await join("ana"), await join("ben")
    await connect(ana, ben)
    slug = await meetup(host, ana, ben)
    for person in (ana, ben):
        await host.client.post(f"/api/v1/meetups/{slug}/checkin/{person.handle}")
    rows = await Contact.select(Contact.trust, Contact.meetings).where(Contact.owner == ana.id)
    assert rows == [{"trust": "online", "meetings": 1}]


async def test_contacts_only_meetups_open_to_met_people_where_the_host_chooses(join: Join) -> None:
    host, ana = await join("host"), await join("ana")
    await connect(host, ana)
    slug = await meetup(host)
    await Meetup.update({Meetup.visibility: "contacts", Meetup.contacts_min_trust: "met"}).where(
        Meetup.slug == slug
    )
    assert (await ana.client.get(f"/api/v1/meetups/{slug}")).status_code == 404
    await claim(host, ana)
    assert (await ana.client.get(f"/api/v1/meetups/{slug}")).status_code == 200


async def test_a_code_redeemed_by_several_people_at_once_works_for_exactly_one(
    join: Join,
) -> None:
    ana = await join("ana")
    others = [await join(f"guest{n}") for n in range(6)]
    code = (await ana.client.post("/api/v1/handshake")).json()["code"]
    answers = await asyncio.gather(
        *(person.client.post(f"/api/v1/handshake/{code}") for person in others)
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409, 409, 409, 409, 409]
    assert await Contact.count().where(Contact.owner == ana.id) == 1
    assert await ContactEvent.count().where(ContactEvent.kind == "handshake") == 1


async def test_the_checklist_costs_the_same_queries_with_3_or_40_people(
    join: Join, queries: QueryLog
) -> None:
    host, ana = await join("host"), await join("ana")
    small = await meetup(host, ana, *[await join(f"few{n}") for n in range(2)])
    crowd = [await join(f"many{n}") for n in range(39)]
    for person in crowd[:10]:
        await connect(ana, person)
    large = await meetup(host, ana, *crowd, checked_in=tuple(crowd[:20]))
    await ana.client.post(f"/api/v1/meetups/{large}/met", json={"handles": ["many1", "many30"]})
    queries.clear()
    assert (await ana.client.get(f"/api/v1/meetups/{small}/met")).status_code == 200
    few = queries.count
    queries.clear()
    listed = await ana.client.get(f"/api/v1/meetups/{large}/met")
    assert len(listed.json()["people"]) == 40
    assert queries.count == few
