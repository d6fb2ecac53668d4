"""A newcomer in a real browser: sign up, settings, language, log out and in again.

Every page on the way passes the checks of `check_page`: `<html lang>`, landmarks, axe-core
without serious or critical violations, no sideways scrolling, no English on es/de pages.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from desvirt.i18n import gettext
from tests.browser.conftest import PASSWORD, CheckPage, OpenPerson, Server
from tests.browser.steps import log_in, sign_up

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["es", "de", "en"])
def test_newcomer_signs_up_saves_settings_and_logs_back_in(
    server: Server, person: OpenPerson, check_page: CheckPage, locale: str
) -> None:
    newcomer = person(locale)
    t = lambda text: gettext(locale, text)  # noqa: E731
    sign_up(server, newcomer, check_page, "Ana")
    page = newcomer.page

    page.get_by_role("navigation").get_by_role("link", name=t("Settings")).click()
    check_page(newcomer, f"settings-{locale}")
    # The feed URL has a copy button (an enhancement: it is hidden without JavaScript).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name=t("Copy")).click()
    expect(page.locator("#feed-copy-status")).to_have_text(
        t("Copied. Paste it into your calendar app.")
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.get_by_label(t("Private feed URL")).input_value()
    assert copied.startswith(server.url + "/cal/") and copied.endswith(".ics")
    page.get_by_label(t("From")).fill("21:30")
    page.get_by_role("button", name=t("Save profile")).click()
    expect(page.get_by_role("status").first).to_have_text(t("Saved."))
    expect(page.get_by_label(t("From"))).to_have_value("21:30")
    check_page(newcomer)

    page.get_by_role("navigation").get_by_role("button", name=t("Log out")).click()
    expect(page.get_by_role("navigation").get_by_role("link", name=t("Log in"))).to_be_visible()
    log_in(server, newcomer, check_page)


def test_footer_language_switch_works_and_follows_the_account(
    server: Server, person: OpenPerson, check_page: CheckPage
) -> None:
    visitor = person("en")
    visitor.go(server.url, "/login")
    visitor.page.get_by_role("contentinfo").get_by_label("Language").select_option("de")
    visitor.page.get_by_role("button", name="Change").click()
    visitor.locale = "de"
    expect(visitor.page.locator("html")).to_have_attribute("lang", "de")
    expect(visitor.page).to_have_url(re.compile(r"/login$"))
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text(gettext("de", "Log in"))
    check_page(visitor)

    # Signed in, the choice is saved in the profile and follows the person to a new browser.
    sign_up(server, visitor, check_page, "Jonas")
    visitor.page.get_by_role("contentinfo").get_by_label(gettext("de", "Language")).select_option(
        "es"
    )
    visitor.page.get_by_role("button", name=gettext("de", "Change")).click()
    visitor.locale = "es"
    check_page(visitor)
    elsewhere = person("en")
    elsewhere.email = visitor.email
    log_in(server, elsewhere, check_page, then="es")
    expect(elsewhere.page.locator("html")).to_have_attribute("lang", "es")


def test_phone_without_javascript_in_spanish(
    server: Server, person: OpenPerson, check_page: CheckPage
) -> None:
    phone = person("es", phone=True, javascript=False)
    t = lambda text, **params: gettext("es", text, **params)  # noqa: E731
    page = phone.page
    phone.go(server.url, "/signup")
    assert page.evaluate("typeof window.fetch") == "function"  # evaluate works; page JS does not
    page.get_by_label(t("Your name")).fill("Lucía")
    page.get_by_label(t("Handle")).fill(f"lucia_{uuid.uuid4().hex[:6]}")
    page.get_by_label(t("Email")).fill("not an email")
    page.get_by_label(t("Password")).fill("short")
    page.get_by_role("button", name=t("Sign up")).click()

    # The form comes back with the errors next to their fields, in Spanish, input kept.
    password = page.get_by_label(t("Password"))
    expect(password).to_have_attribute("aria-invalid", "true")
    error_ids = (password.get_attribute("aria-describedby") or "").split()
    assert "password-error" in error_ids
    assert page.locator("#password-error").inner_text().strip()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.get_by_label(t("Your name"))).to_have_value("Lucía")
    check_page(phone, "signup-errors-phone-es")

    phone.handle = page.get_by_label(t("Handle")).input_value()
    phone.email = f"{phone.handle}@example.org"
    page.get_by_label(t("Email")).fill(phone.email)
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Sign up")).click()
    expect(page).to_have_url(re.compile(r"/\?welcome=1$"))
    check_page(phone, "home-phone-es")

    page.get_by_role("navigation").get_by_role("link", name=t("Settings")).click()
    check_page(phone, "settings-phone-es")
    expect(page.get_by_role("button", name=t("Copy"))).to_be_hidden()
    page.get_by_label(t("1 hour before")).check()
    page.get_by_role("button", name=t("Save profile")).click()
    expect(page.get_by_role("status").first).to_have_text(t("Saved."))
    expect(page.get_by_label(t("1 hour before"))).to_be_checked()
    page.get_by_role("navigation").get_by_role("button", name=t("Log out")).click()
    log_in(server, phone, check_page)


def test_dark_mode_pages_are_readable(
    server: Server, person: OpenPerson, check_page: CheckPage
) -> None:
    night = person("en", dark=True, phone=True)
    for path, name in (("/", "home"), ("/signup", "signup"), ("/login", "login")):
        night.go(server.url, path)
        check_page(night, f"{name}-dark-phone")


def test_keyboard_users_skip_to_the_content_and_see_where_they_are(
    server: Server, person: OpenPerson
) -> None:
    visitor = person("de")
    page = visitor.page
    visitor.go(server.url, "/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=gettext("de", "Skip to content"))
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    current = page.get_by_role("navigation").locator("[aria-current=page]")
    expect(current).to_have_text(gettext("de", "Log in"))
