"""The whole story in real browsers: a host and two guests, from sign-up to the door.

Jonas hosts in German on a desktop. Emma answers in English, in dark mode. Lucía uses a
390 px phone, in Spanish, with JavaScript off. The meetup has one seat, so Lucía starts on
the waitlist and moves up when Emma cancels; the host checks her in from the QR code on her
ticket.
Every page on the way passes `check_page` (language, landmarks, axe-core, no sideways
scrolling, no English on es/de pages).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from desvirt.i18n import format_when
from tests.browser.conftest import CheckPage, OpenPerson, Person, Server
from tests.browser.steps import sign_up

pytestmark = pytest.mark.browser

ZONE = "Europe/Madrid"


def create_meetup(
    server: Server, host: Person, check_page: CheckPage, *, seats: int
) -> tuple[str, datetime]:
    """The host fills /m/new for a meetup that has just begun; returns its URL and start."""
    t = host.t
    page = host.page
    page.get_by_role("navigation").get_by_role("link", name=t("New meetup")).click()
    check_page(host, f"meetup-new-{host.locale}")
    begun = datetime.now(ZoneInfo(ZONE)).replace(second=0, microsecond=0) - timedelta(minutes=5)
    # A refused form comes back with the message next to the field and the input kept.
    page.get_by_label(t("Title")).fill("Feierabend-Treffen #desvirt")
    page.get_by_label(t("Starts")).fill(begun.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(t("Ends")).fill((begun - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(t("Time zone")).fill(ZONE)
    page.get_by_role("button", name=t("Create meetup")).click()
    expect(page.get_by_label(t("Ends"))).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ends_at-error")).to_be_visible()
    expect(page.get_by_label(t("Title"))).to_have_value("Feierabend-Treffen #desvirt")
    check_page(host, f"meetup-new-error-{host.locale}")
    page.get_by_label(t("Title")).fill("Feierabend-Treffen #desvirt")
    page.get_by_label(t("Description")).fill("Wir treffen uns **endlich** persönlich.\n\n- Tapas")
    page.get_by_label(t("Starts")).fill(begun.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(t("Ends")).fill((begun + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(t("Time zone")).fill(ZONE)
    page.get_by_label(t("Venue")).fill("Casa Lucio")
    page.get_by_label(t("Address")).fill("Calle de la Cava Baja 35, Madrid")
    page.get_by_label(t("Capacity (seats, guests included)")).fill(str(seats))
    page.get_by_label(t("Public: listed on the front page")).check()
    page.get_by_role("button", name=t("Create meetup")).click()
    expect(page.get_by_role("status").first).to_have_text(
        t("Your meetup is ready. Share this page.")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Feierabend-Treffen #desvirt")
    check_page(host, f"meetup-host-{host.locale}")
    return str(page.url.split("?")[0]), begun


def answer(person: Person, meetup_url: str, button: str) -> None:
    person.page.goto(meetup_url)
    person.page.get_by_role("button", name=person.t(button)).click()


def test_host_and_two_guests_from_signup_to_check_in(
    any_server: Server, person: OpenPerson, check_page: CheckPage
) -> None:
    server = any_server
    host = person("de")
    emma = person("en", dark=True)  # and her pages in dark mode, contrast checked by axe
    lucia = person("es", phone=True, javascript=False)
    sign_up(server, host, check_page, "Jonas")
    sign_up(server, emma, check_page, "Emma", zone="Europe/London")
    sign_up(server, lucia, check_page, "Lucía")

    meetup_url, starts_at = create_meetup(server, host, check_page, seats=1)
    # Dates read the German way, in the meetup's zone, with no seconds.
    when = host.page.locator("#when-heading + p time").first.inner_text()
    assert re.search(r"\d{1,2}\. \w+ \d{4}, \d{2}:\d{2}$", when), when

    # Emma takes the only seat.
    answer(emma, meetup_url, "Yes, I'm going")
    expect(emma.page.get_by_role("status").first).to_have_text(
        emma.t("You are going. See you there!")
    )
    check_page(emma, "meetup-going-en")
    # Emma lives in London: the page also gives the time in her zone, an hour earlier.
    in_her_zone = emma.page.locator("#when-heading ~ p.hint")
    expect(in_her_zone).to_contain_text(
        emma.t("In your time zone (%(zone)s):", zone="Europe/London")
    )
    london = format_when(starts_at, "Europe/London", "en", "full")
    assert london.endswith(format_when(starts_at - timedelta(hours=1), ZONE, "en", "time"))
    expect(in_her_zone).to_contain_text(london)

    # Lucía, on her phone without JavaScript, answers in Spanish and lands on the waitlist.
    answer(lucia, meetup_url, "Yes, I'm going")
    expect(lucia.page.get_by_role("status").first).to_have_text(
        lucia.t("The meetup is full: you are on the waitlist.")
    )
    rsvp = lucia.page.locator("#rsvp")
    expect(rsvp).to_contain_text(lucia.t("On the waitlist"))
    expect(rsvp).to_contain_text(lucia.t("position %(position)s", position=1))
    check_page(lucia, "meetup-waitlisted-phone-es")

    # Emma cannot come after all: her seat goes to Lucía at once.
    answer(emma, meetup_url, "No")
    expect(emma.page.get_by_role("status").first).to_have_text(emma.t("You are not going."))
    lucia.page.goto(meetup_url)
    expect(lucia.page.locator("#rsvp")).to_contain_text(lucia.t("Going"))
    expect(lucia.page.locator("#rsvp")).not_to_contain_text(lucia.t("On the waitlist"))
    check_page(lucia, "meetup-promoted-phone-es")

    # Her ticket carries a QR code that opens the host's check-in page.
    lucia.page.get_by_role("link", name=lucia.t("Your ticket for the door")).click()
    check_page(lucia, "ticket-phone-es")
    qr = lucia.page.locator("figure svg")
    expect(qr).to_be_visible()
    checkin_url = qr.locator("title").text_content()
    assert checkin_url == f"{meetup_url}/checkin/{lucia.handle}"

    # At the door the host scans it and checks her in with one tap.
    host.page.goto(checkin_url)
    check_page(host, "checkin-de")
    host.page.get_by_role("button", name=host.t("Check in %(name)s", name="Lucía")).click()
    attendees = host.page.locator("#attendees")
    expect(attendees).to_contain_text("Lucía")
    expect(attendees).to_contain_text(host.t("checked in"))
    check_page(host, "meetup-checked-in-de")

    lucia.page.goto(f"{meetup_url}/ticket")
    expect(lucia.page.locator("main")).to_contain_text(lucia.t("You are checked in."))

    # Who did you meet? The host ticks Lucía; Lucía, on her phone, ticks Jonas: verified.
    host.page.goto(meetup_url)
    host.page.get_by_role("link", name=host.t("Who did you meet?")).click()
    check_page(host, "met-checklist-de")
    host.page.get_by_label("Lucía").check()
    host.page.get_by_role("button", name=host.t("Save who I met")).click()
    expect(host.page.get_by_role("status").first).to_have_text(
        host.t("Saved. Trust is updated for both of you.")
    )
    lucia.page.goto(meetup_url)
    lucia.page.get_by_role("link", name=lucia.t("Who did you meet?")).click()
    lucia.page.get_by_label("Jonas").check()
    lucia.page.get_by_role("button", name=lucia.t("Save who I met")).click()
    expect(lucia.page.locator(".checklist")).to_contain_text(lucia.t("Verified"))
    check_page(lucia, "met-checklist-phone-es")

    # Emma asks Jonas to connect, with a reason; he accepts from his requests page.
    emma.go(server.url, f"/u/{host.handle}")
    check_page(emma, "profile-en")
    emma.page.get_by_label(emma.t("Reason")).select_option("meeting_soon")
    emma.page.get_by_label(emma.t("Message")).fill("See you at the Feierabend-Treffen!")
    emma.page.get_by_role("button", name=emma.t("Send request")).click()
    expect(emma.page.get_by_text(emma.t("Your request is waiting for an answer."))).to_be_visible()
    check_page(emma)
    host.page.get_by_role("navigation").get_by_role("link", name=host.t("Requests")).click()
    incoming = host.page.locator("#incoming")
    expect(incoming).to_contain_text("See you at the Feierabend-Treffen!")
    expect(incoming).to_contain_text(host.t("We are about to meet"))
    check_page(host, "requests-de")
    incoming.get_by_role("button", name=host.t("Accept")).first.click()
    host.page.get_by_role("navigation").get_by_role("link", name=host.t("Contacts")).click()
    expect(host.page.locator("main")).to_contain_text("Emma")
    check_page(host, "contacts-de")

    # Face to face, Emma types the code Jonas shows her: they are verified at once.
    host.page.get_by_role("navigation").get_by_role("link", name=host.t("Handshake")).click()
    check_page(host, "handshake-de")
    code = host.page.locator(".handshake-code").inner_text().strip()
    emma.go(server.url, "/handshake")
    check_page(emma, "handshake-en")
    emma.page.get_by_label(emma.t("Their code")).fill(code)
    emma.page.get_by_role("button", name=emma.t("Continue")).click()
    check_page(emma, "handshake-confirm-en")
    emma.page.get_by_role("button", name=emma.t("Yes, we are meeting now")).click()
    expect(emma.page.get_by_role("status").first).to_have_text(
        emma.t("You and %(name)s are now verified contacts: both of you can see why.", name="Jonas")
    )
    check_page(emma, "handshake-done-en")

    # Jonas proposes two candidate times to Emma; she votes; he fixes the one she can make.
    host.go(server.url, "/m/propose")
    page = host.page
    page.get_by_label(host.t("Title")).fill("Kaffee und Kuchen")
    page.get_by_label("Emma").check()
    page.get_by_label(host.t("Time zone")).fill(ZONE)
    for number, days in ((1, 3), (2, 4)):
        day = (starts_at + timedelta(days=days)).replace(hour=16, minute=0)
        starts = host.t("Option %(number)s starts", number=number)
        ends = host.t("Option %(number)s ends", number=number)
        page.get_by_label(starts).fill(day.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label(ends).fill((day + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(host.t("Venue")).fill("Café Central")
    page.get_by_role("button", name=host.t("Send the proposal")).click()
    expect(page.get_by_role("status").first).to_have_text(
        host.t("Your proposal is sent. Invitees vote on the times; then you fix one.")
    )
    check_page(host, "proposal-host-de")
    proposal_url = page.url.split("?")[0]
    emma.page.goto(proposal_url)
    check_page(emma, "proposal-vote-en")
    first, second = emma.page.locator("fieldset.vote").all()
    first.get_by_label(emma.t("Yes")).check()
    second.get_by_label(emma.t("No")).check()
    emma.page.get_by_role("button", name=emma.t("Send my votes")).click()
    expect(emma.page.get_by_role("status").first).to_have_text(emma.t("Thanks, your votes are in."))
    page.goto(proposal_url)
    options = page.locator("#times .options > li")
    expect(options.first).to_contain_text(
        host.t("%(yes)s yes · %(maybe)s maybe · %(no)s no", yes=1, maybe=0, no=0)
    )
    options.first.get_by_role("button", name=host.t("Fix this time")).click()
    expect(page.get_by_role("status").first).to_have_text(
        host.t("The time is fixed: this is now a scheduled meetup.")
    )
    check_page(host, "proposal-fixed-de")
    answer(emma, proposal_url, "Yes, I'm going")
    expect(emma.page.get_by_role("status").first).to_have_text(
        emma.t("You are going. See you there!")
    )

    # Every other page on the way is complete in German too.
    slug_path = meetup_url.removeprefix(server.url)
    for path, name in (
        (f"/u/{emma.handle}", "contact-de"),
        (f"{slug_path}/edit", "meetup-edit-de"),
        ("/m/propose", "propose-de"),
        ("/contacts/import", "address-book-de"),
        ("/settings", None),
    ):
        host.go(server.url, path)
        check_page(host, name)

    # ... and in Spanish, on the phone without JavaScript, including a page that is not there.
    for path, name in (
        ("/contacts", "contacts-phone-es"),
        ("/contacts/requests", "requests-phone-es"),
        (f"/u/{host.handle}", "contact-phone-es"),
        ("/handshake", "handshake-phone-es"),
        ("/m/propose", "propose-phone-es"),
        ("/contacts/import", "address-book-phone-es"),
        ("/settings", "settings-member-phone-es"),
    ):
        lucia.go(server.url, path)
        check_page(lucia, name)
    missing = lucia.page.goto(f"{server.url}/m/no-such-meetup")
    assert missing is not None and missing.status == 404
    check_page(lucia, "not-found-phone-es")

    # Anyone with the shared link sees the meetup and is invited to log in to answer.
    stranger = person("de", phone=True)
    stranger.go(server.url, meetup_url.removeprefix(server.url))
    expect(stranger.page.get_by_role("heading", level=1)).to_have_text(
        "Feierabend-Treffen #desvirt"
    )
    expect(stranger.page.get_by_role("link", name=stranger.t("Log in to answer"))).to_be_visible()
    check_page(stranger, "meetup-anonymous-phone-de")
