"""Account pages as a browser without JavaScript uses them: forms, CSRF, redirects, languages."""

from __future__ import annotations

import httpx

from desvirt.accounts.tables import User
from tests.conftest import ClientFactory, SignUp, csrf_token

FORM = {
    "display_name": "Lucía Fernández",
    "handle": "lucia",
    "email": "lucia@example.org",
    "password": "una contraseña larga",
    "timezone": "Europe/Madrid",
}


async def test_signup_form_creates_account_and_lands_signed_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/signup")
    assert page.status_code == 200
    for name in ("display_name", "handle", "email", "password", "timezone"):
        assert f'name="{name}"' in page.text
        assert f'for="{name}"' in page.text
    response = await client.post("/signup", data={**FORM, "_csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/?welcome=1"
    home = await client.get("/?welcome=1")
    assert "Lucía Fernández" in home.text
    assert await User.count() == 1


async def test_signup_errors_appear_next_to_fields_and_keep_input(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/signup")
    bad = {**FORM, "email": "nope", "password": "short", "_csrf_token": csrf_token(page.text)}
    response = await client.post("/signup", data=bad)
    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert 'id="password-error"' in response.text
    assert 'value="lucia"' in response.text
    assert 'value="Lucía Fernández"' in response.text
    assert await User.count() == 0


async def test_a_form_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/signup")
    response = await client.post("/signup", data=FORM, headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "<html" in response.text
    assert await User.count() == 0


async def test_pages_follow_accept_language(client: httpx.AsyncClient) -> None:
    spanish = await client.get("/signup", headers={"accept-language": "es-ES,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in spanish.text
    assert "Crea tu cuenta" in spanish.text
    german = await client.get("/login", headers={"accept-language": "de-AT, en;q=0.3"})
    assert '<html lang="de">' in german.text
    assert "Anmelden" in german.text
    english = await client.get("/login", headers={"accept-language": "fr"})
    assert '<html lang="en">' in english.text


async def test_profile_locale_wins_over_the_browser(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "jonas", locale="de")
    page = await client.get("/settings", headers={"accept-language": "es"})
    assert '<html lang="de">' in page.text
    assert "Einstellungen" in page.text


async def test_login_and_logout_pages(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up(client, "ana")
    await client.post("/api/v1/auth/logout")
    page = await client.get("/login?next=/settings")
    wrong = await client.post(
        "/login",
        data={
            "email": "ana@example.org",
            "password": "wrong one!",
            "next": "/settings",
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert wrong.status_code == 401
    assert 'value="ana@example.org"' in wrong.text
    right = await client.post(
        "/login",
        data={
            "email": "ana@example.org",
            "password": "correct horse battery",
            "next": "/settings",
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/settings"
    settings = await client.get("/settings")
    out = await client.post("/logout", data={"_csrf_token": csrf_token(settings.text)})
    assert out.status_code == 303
    assert (await client.get("/settings")).status_code == 303


async def test_login_never_redirects_off_site(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    await sign_up(client, "ana")
    await client.post("/api/v1/auth/logout")
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": "ana@example.org",
            "password": "correct horse battery",
            "next": "//evil.example/",
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["location"] == "/"


async def test_settings_page_edits_profile_charter_and_tokens(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    page = await client.get("/settings")
    token = csrf_token(page.text)
    assert "/cal/" in page.text and "webcal://" in page.text
    saved = await client.post(
        "/settings/profile",
        data={
            "_csrf_token": token,
            "display_name": "Ana Q",
            "locale": "es",
            "timezone": "Europe/Madrid",
            "quiet_hours_start": "23:00",
            "quiet_hours_end": "07:00",
            "reminder_offsets_minutes": ["1440", "60"],
        },
    )
    assert saved.status_code == 303
    profile = (await client.get("/api/v1/me")).json()
    assert profile["display_name"] == "Ana Q"
    assert profile["quiet_hours"] == {"start": "23:00", "end": "07:00"}
    assert profile["reminder_offsets_minutes"] == [1440, 60]
    charter = await client.post(
        "/settings/charter",
        data={
            "_csrf_token": token,
            "accepted_reasons": ["met_in_person"],
            "auto_decline_phrases": "oportunidad única\nquick call",
            "proposals_from": "verified",
        },
    )
    assert charter.status_code == 303
    profile = (await client.get("/api/v1/me")).json()
    assert profile["charter"] == {
        "accepted_reasons": ["met_in_person"],
        "auto_decline_phrases": ["oportunidad única", "quick call"],
        "require_message": False,
        "proposals_from": "verified",
    }
    created = await client.post("/settings/tokens", data={"_csrf_token": token, "name": "cli"})
    assert created.status_code == 200
    assert "dsv_" in created.text


async def test_invalid_settings_show_the_error_in_spanish_and_save_nothing(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    await sign_up(client, "ana", locale="es")
    page = await client.get("/settings")
    response = await client.post(
        "/settings/profile",
        data={
            "_csrf_token": csrf_token(page.text),
            "display_name": "Otro nombre",
            "locale": "es",
            "timezone": "Luna/Mar_de_la_Tranquilidad",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:00",
        },
    )
    assert response.status_code == 422
    assert "Zona horaria desconocida" in response.text
    assert (await client.get("/api/v1/me")).json()["display_name"] == "Ana"


async def test_unknown_page_is_a_localized_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/no/such/page", headers={"accept": "text/html", "accept-language": "de"}
    )
    assert response.status_code == 404
    assert '<html lang="de">' in response.text


async def test_signup_with_a_taken_handle_says_so_next_to_the_handle(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "lucia")
    browser = await new_client()
    page = await browser.get("/signup", headers={"accept-language": "es"})
    response = await browser.post(
        "/signup",
        data={**FORM, "email": "otra@example.org", "_csrf_token": csrf_token(page.text)},
        headers={"accept-language": "es"},
    )
    assert response.status_code == 409
    assert 'id="handle-error"' in response.text
    assert "Este alias ya está cogido" in response.text
