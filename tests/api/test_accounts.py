"""Accounts through the JSON API, as a client program would use them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from desvirt.accounts.tables import Attempt, User
from tests.conftest import ClientFactory, SignUp, open_client

Client = httpx.AsyncClient
GOOD = {
    "email": "ana@example.org",
    "password": "correct horse battery",
    "handle": "ana",
    "display_name": "Ana García",
}


async def test_signup_creates_the_account_and_signs_in(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={**GOOD, "locale": "es", "timezone": "Europe/Madrid"}
    )
    assert response.status_code == 201
    profile = response.json()
    assert profile["handle"] == "ana"
    assert profile["locale"] == "es"
    assert profile["timezone"] == "Europe/Madrid"
    assert profile["quiet_hours"] == {"start": "22:00", "end": "08:00"}
    assert profile["reminder_offsets_minutes"] == [1440, 120]
    assert profile["feed_url"].startswith("http://testserver.local/cal/")
    assert profile["charter"]["proposals_from"] == "online"
    assert "met_in_person" in profile["charter"]["accepted_reasons"]
    assert "password" not in str(profile)
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ana@example.org"


async def test_session_cookie_is_httponly_and_samesite_lax(client: Client) -> None:
    response = await client.post("/api/v1/auth/signup", json=GOOD)
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("desvirt_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


async def test_password_is_stored_as_argon2id(client: Client) -> None:
    await client.post("/api/v1/auth/signup", json=GOOD)
    stored = await User.select(User.password_hash).first()
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"handle": "A!"}, "handle"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"locale": "fr"}, "locale"),
        ({"display_name": "   "}, "display_name"),
    ],
)
async def test_bad_signup_fields_get_a_clear_422_and_write_nothing(
    client: Client, change: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/auth/signup", json={**GOOD, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["field"] == field
    assert body["detail"]
    assert await User.count() == 0


async def test_wrong_types_and_unknown_fields_are_422(client: Client) -> None:
    wrong_type = await client.post("/api/v1/auth/signup", json={**GOOD, "handle": 42})
    assert wrong_type.status_code == 422
    assert set(wrong_type.json()) >= {"detail", "code"}
    unknown = await client.post("/api/v1/auth/signup", json={**GOOD, "is_admin": True})
    assert unknown.status_code == 422
    assert "is_admin" in unknown.json()["detail"]
    assert await User.count() == 0


async def test_malformed_json_is_a_400_in_the_error_shape(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


async def test_a_3_megabyte_body_is_refused_with_413(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/signup",
        content=b'{"email": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert await User.count() == 0


async def test_duplicate_email_or_handle_is_a_409(
    client: Client, new_client: ClientFactory
) -> None:
    assert (await client.post("/api/v1/auth/signup", json=GOOD)).status_code == 201
    other = await new_client()
    same_email = await other.post(
        "/api/v1/auth/signup", json={**GOOD, "handle": "ana2", "email": "ANA@example.org"}
    )
    assert same_email.status_code == 409
    assert same_email.json()["code"] == "email_taken"
    same_handle = await other.post(
        "/api/v1/auth/signup", json={**GOOD, "email": "other@example.org", "handle": "Ana"}
    )
    assert same_handle.status_code == 409
    assert same_handle.json()["code"] == "handle_taken"
    assert await User.count() == 1


async def test_login_with_the_right_password_opens_a_session(
    client: Client, new_client: ClientFactory
) -> None:
    await client.post("/api/v1/auth/signup", json=GOOD)
    browser = await new_client()
    assert (await browser.get("/api/v1/me")).status_code == 401
    response = await browser.post(
        "/api/v1/auth/login", json={"email": "Ana@Example.org", "password": GOOD["password"]}
    )
    assert response.status_code == 200
    assert (await browser.get("/api/v1/me")).json()["handle"] == "ana"
    assert (await browser.post("/api/v1/auth/logout")).status_code == 204
    assert (await browser.get("/api/v1/me")).status_code == 401


async def test_login_rotates_the_session_id(client: Client, new_client: ClientFactory) -> None:
    await client.post("/api/v1/auth/signup", json=GOOD)
    browser = await new_client()
    browser.cookies.set("desvirt_session", "planted-by-someone-else", domain="testserver.local")
    await browser.post(
        "/api/v1/auth/login", json={"email": GOOD["email"], "password": GOOD["password"]}
    )
    assert browser.cookies.get("desvirt_session") != "planted-by-someone-else"


async def test_wrong_password_is_401_without_saying_which_part_was_wrong(client: Client) -> None:
    await client.post("/api/v1/auth/signup", json=GOOD)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": GOOD["email"], "password": "nope nope nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "who@example.org", "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_repeated_login_failures_are_slowed_with_429_and_retry_after(
    client: Client,
) -> None:
    await client.post("/api/v1/auth/signup", json=GOOD)
    bad = {"email": GOOD["email"], "password": "wrong password!"}
    for _ in range(10):
        assert (await client.post("/api/v1/auth/login", json=bad)).status_code == 401
    limited = await client.post("/api/v1/auth/login", json=bad)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 15 * 60
    # Even the right password waits: the limit protects the account from guessing.
    right = await client.post("/api/v1/auth/login", json={**bad, "password": GOOD["password"]})
    assert right.status_code == 429


async def test_signups_per_address_are_limited_when_configured(
    app: Litestar, settings: Any, db: Any
) -> None:
    from dataclasses import replace

    from desvirt.app import create_app

    limited_app = create_app(replace(settings, signups_per_ip_per_hour=2), engine=db.engine)
    async with open_client(limited_app) as browser:
        for index in range(2):
            body = {**GOOD, "email": f"p{index}@example.org", "handle": f"person{index}"}
            assert (await browser.post("/api/v1/auth/signup", json=body)).status_code == 201
        third = await browser.post(
            "/api/v1/auth/signup", json={**GOOD, "email": "p3@example.org", "handle": "person3"}
        )
    assert third.status_code == 429
    assert "retry-after" in third.headers
    assert await Attempt.count().where(Attempt.kind == "signup") == 2


async def test_api_token_works_as_bearer_and_stops_when_revoked(
    client: Client, new_client: ClientFactory, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    created = await client.post("/api/v1/auth/tokens", json={"name": "my script"})
    assert created.status_code == 201
    token = created.json()["token"]
    script = await new_client()
    me = await script.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["handle"] == "ana"
    listed = (await client.get("/api/v1/auth/tokens")).json()
    assert [t["name"] for t in listed] == ["my script"]
    assert "token" not in listed[0]
    assert (await client.delete(f"/api/v1/auth/tokens/{created.json()['id']}")).status_code == 204
    after = await script.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_token"


async def test_patch_me_changes_profile_reminders_and_charter(
    client: Client, sign_up: SignUp
) -> None:
    await sign_up(client, "ana")
    response = await client.patch(
        "/api/v1/me",
        json={
            "display_name": "Ana G.",
            "locale": "de",
            "timezone": "America/Bogota",
            "quiet_hours": {"start": "21:30", "end": "07:15"},
            "reminder_offsets_minutes": [60, 1440, 60],
            "charter": {
                "accepted_reasons": ["met_in_person", "read_your_work"],
                "auto_decline_phrases": ["Oportunidad única", "  quick call  "],
                "require_message": False,
                "proposals_from": "met",
            },
        },
    )
    assert response.status_code == 200, response.text
    profile = (await client.get("/api/v1/me")).json()
    assert profile["display_name"] == "Ana G."
    assert profile["locale"] == "de"
    assert profile["timezone"] == "America/Bogota"
    assert profile["quiet_hours"] == {"start": "21:30", "end": "07:15"}
    assert profile["reminder_offsets_minutes"] == [1440, 60]
    assert profile["charter"] == {
        "accepted_reasons": ["met_in_person", "read_your_work"],
        "auto_decline_phrases": ["Oportunidad única", "quick call"],
        "require_message": False,
        "proposals_from": "met",
    }


@pytest.mark.parametrize(
    "patch",
    [
        {"timezone": "Nowhere/Special"},
        {"quiet_hours": {"start": "25:00", "end": "08:00"}},
        {"reminder_offsets_minutes": [-5]},
        {"charter": {"accepted_reasons": ["because"]}},
        {"charter": {"proposals_from": "everyone"}},
        {"locale": "it"},
    ],
)
async def test_an_invalid_patch_changes_nothing(
    client: Client, sign_up: SignUp, patch: dict[str, Any]
) -> None:
    before = await sign_up(client, "ana")
    response = await client.patch("/api/v1/me", json={"display_name": "Changed", **patch})
    assert response.status_code == 422
    assert (await client.get("/api/v1/me")).json() == before


async def test_rotating_the_feed_token_changes_the_feed_url(
    client: Client, sign_up: SignUp
) -> None:
    before = (await sign_up(client, "ana"))["feed_url"]
    rotated = await client.post("/api/v1/me/feed-token")
    assert rotated.status_code == 200
    assert rotated.json()["feed_url"] != before
    assert rotated.json()["webcal_url"].startswith("webcal://")
    assert (await client.get("/api/v1/me")).json()["feed_url"] == rotated.json()["feed_url"]
    stored = await User.select(User.feed_token_hash).first()
    assert stored is not None
    assert stored["feed_token_hash"] not in rotated.json()["feed_url"]


async def test_me_requires_authentication(client: Client) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_health_and_openapi(client: Client) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/auth/signup" in schema.json()["paths"]


async def test_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
