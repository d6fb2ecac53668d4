"""Steps that several browser journeys share, written as a person would do them."""

from __future__ import annotations

import unicodedata
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, CheckPage, Person, Server


def sign_up(
    server: Server, person: Person, check_page: CheckPage, name: str, zone: str = "Europe/Madrid"
) -> None:
    """Sign up from the front page, the way a newcomer finds the way in."""
    t = person.t
    plain = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    person.handle = f"{plain}_{uuid.uuid4().hex[:6]}"
    person.email = f"{person.handle}@example.org"
    person.go(server.url, "/")
    check_page(person, f"home-anonymous-{person.locale}")
    person.page.get_by_role("link", name=t("Create your account")).first.click()
    check_page(person, f"signup-{person.locale}")
    person.page.get_by_label(t("Your name")).fill(name)
    person.page.get_by_label(t("Handle")).fill(person.handle)
    person.page.get_by_label(t("Email")).fill(person.email)
    person.page.get_by_label(t("Password")).fill(PASSWORD)
    person.page.get_by_label(t("Time zone")).fill(zone)
    person.page.get_by_role("button", name=t("Sign up")).click()
    welcome = t("Welcome, %(name)s! Your account is ready.", name=name)
    expect(person.page.get_by_role("status").first).to_have_text(welcome)
    check_page(person, f"home-welcome-{person.locale}")


def log_in(server: Server, person: Person, check_page: CheckPage, *, then: str = "") -> None:
    """Log in from the nav; `then` is the language the account brings, if not the browser's."""
    t = person.t
    person.go(server.url, "/")
    person.page.get_by_role("navigation").get_by_role("link", name=t("Log in")).click()
    check_page(person, f"login-{person.locale}")
    person.page.get_by_label(t("Email")).fill(person.email)
    person.page.get_by_label(t("Password")).fill(PASSWORD)
    person.page.locator("main").get_by_role("button", name=t("Log in")).click()
    person.locale = then or person.locale
    nav = person.page.get_by_role("navigation", name=person.t("Main"))
    expect(nav.get_by_role("link", name=person.t("Settings"))).to_be_visible()
    check_page(person)
