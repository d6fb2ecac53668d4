"""A signed-in person reopening a meetup page costs no query, and never sees it stale.

On PostgreSQL each process keeps the meetup pages it rendered for signed-in viewers, by
session, and forgets them all when a trigger's NOTIFY says something a page shows has
changed. One's own changes show at once whichever process answers: every write gets a new
`desvirt_writes` cookie, and with it the next view is rendered afresh. On SQLite nothing
is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

import asyncpg
import httpx
import pytest
from litestar import Litestar

from desvirt import database
from desvirt.signed_in_lane import (
    CHANNEL,
    SIGNED_IN_PAGES,
    WRITES_COOKIE,
    SignedInPages,
    page_concerns,
)
from tests.api.test_feed_versions import listening_as_served, until, write_elsewhere
from tests.api.test_meetups import host_meetup, meetup_body, person
from tests.conftest import Backend, ClientFactory, QueryLog, SignUp, csrf_token

HTML = {"accept": "text/html"}
TICKET = "Your ticket for the door"


@pytest.fixture
async def pages(app: Litestar, db: Backend) -> AsyncIterator[SignedInPages]:
    """The app's kept pages, with its listener running as `desvirt serve` runs it."""
    kept: SignedInPages = app.state[SIGNED_IN_PAGES]
    async with listening_as_served(db, CHANNEL, kept):
        yield kept


async def test_an_attendee_reopening_the_meetup_page_costs_no_query_on_postgresql(
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    pages: SignedInPages,
    queries: QueryLog,
    db: Backend,
) -> None:
    slug, ben = await ben_going(client, new_client, sign_up, pages)
    first = await ben.get(f"/m/{slug}", headers=HTML)
    assert TICKET in first.text

    queries.clear()
    again = await ben.get(f"/m/{slug}", headers=HTML)

    assert again.status_code == 200
    assert again.headers["content-type"] == "text/html; charset=utf-8"
    assert again.text == first.text
    assert again.headers["x-request-id"]
    if db.name == "postgres":
        assert queries.count == 0
        assert len(pages) == 1
    else:
        assert queries.count == 5  # SQLite has no NOTIFY: every view is rendered
        assert len(pages) == 0
    metrics = (await client.get("/metrics")).text
    assert 'route="/m/{slug}",status="200"' in metrics


async def test_someone_elses_answer_reaches_a_kept_page(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, pages: SignedInPages
) -> None:
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await settled(pages)
    assert "Carla" not in (await ben.get(f"/m/{slug}", headers=HTML)).text
    seen = pages.generation

    await carla.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    if pages.listening:
        await until(lambda: pages.generation > seen)  # the answer's own notification

    assert "Carla" in (await ben.get(f"/m/{slug}", headers=HTML)).text


async def test_a_change_written_by_another_process_reaches_a_kept_page(
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    pages: SignedInPages,
    db: Backend,
) -> None:
    slug, ben = await ben_going(client, new_client, sign_up, pages)
    await ben.get(f"/m/{slug}", headers=HTML)
    seen = pages.generation

    await write_elsewhere(
        db, "UPDATE meetup SET title = 'Vermut en Lavapiés' WHERE slug = $1", slug
    )
    await until(lambda: pages.generation > seen)

    assert "Vermut en Lavapiés" in (await ben.get(f"/m/{slug}", headers=HTML)).text


async def test_my_own_answer_shows_at_once_before_any_notification_arrives(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, app: Litestar
) -> None:
    # A process that listens but has not yet heard of the write (another process made it).
    slow: SignedInPages = app.state[SIGNED_IN_PAGES]
    slow.start_listening()
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    kept = await ben.get(f"/m/{slug}", headers=HTML)
    assert TICKET in kept.text
    assert len(slow) == 1

    # The kept page's forms carry this browser's CSRF token, so the form works.
    answered = await ben.post(
        f"/m/{slug}/rsvp",
        data={"response": "no", "_csrf_token": csrf_token(kept.text)},
        headers=HTML,
    )
    assert answered.status_code == 303
    assert WRITES_COOKIE in answered.headers["set-cookie"]

    assert TICKET not in (await ben.get(f"/m/{slug}", headers=HTML)).text


async def test_a_page_is_kept_for_its_session_alone(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, pages: SignedInPages
) -> None:
    slug, ben = await ben_going(client, new_client, sign_up, pages)
    edit_link = f'href="/m/{slug}/edit"'
    assert edit_link not in (await ben.get(f"/m/{slug}", headers=HTML)).text

    assert edit_link in (await client.get(f"/m/{slug}", headers=HTML)).text  # the host's own
    assert edit_link not in (await ben.get(f"/m/{slug}", headers=HTML)).text
    visitor = await new_client()
    shown = (await visitor.get(f"/m/{slug}", headers=HTML)).text
    assert "Log in to answer" in shown
    assert TICKET not in shown


async def test_after_signing_out_a_copied_session_cookie_gets_no_kept_page(
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    pages: SignedInPages,
    db: Backend,
) -> None:
    if db.name != "postgres":
        pytest.skip("nothing is kept on SQLite")
    slug, ben = await ben_going(client, new_client, sign_up, pages)
    assert TICKET in (await ben.get(f"/m/{slug}", headers=HTML)).text
    copy = await new_client()
    copy.cookies.update(ben.cookies)
    assert TICKET in (await copy.get(f"/m/{slug}", headers=HTML)).text
    seen = pages.generation

    logout_page = await ben.get("/logout", headers=HTML)
    signed_out = await ben.post(
        "/logout", data={"_csrf_token": csrf_token(logout_page.text)}, headers=HTML
    )
    assert signed_out.status_code == 303
    await until(lambda: pages.generation > seen)

    shown = (await copy.get(f"/m/{slug}", headers=HTML)).text
    assert TICKET not in shown
    assert "Log in to answer" in shown


async def ben_going(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, pages: SignedInPages
) -> tuple[str, httpx.AsyncClient]:
    """Ana hosts a meetup and Ben is going; every notification so far has arrived."""
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await settled(pages)
    return slug, ben


async def settled(pages: SignedInPages) -> None:
    """Let the notifications of the writes so far arrive, so they forget nothing later."""
    if not pages.listening:
        return
    marker = pages.generation
    # PostgreSQL delivers notifications in commit order: this one comes after the others.
    await database.fetch(f"SELECT pg_notify('{CHANNEL}', 'settled')")
    await until(lambda: pages.generation > marker)


async def test_a_write_to_another_meetup_leaves_the_page_kept(
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    pages: SignedInPages,
    queries: QueryLog,
    db: Backend,
) -> None:
    if db.name != "postgres":
        pytest.skip("nothing is kept on SQLite")
    slug = await host_meetup(client, sign_up)
    other = (await client.post("/api/v1/meetups", json=meetup_body(title="Vermut"))).json()
    ben = await person(new_client, sign_up, "ben")
    carla = await person(new_client, sign_up, "carla")
    await ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
    await settled(pages)
    await ben.get(f"/m/{slug}", headers=HTML)
    seen = pages.generation

    await carla.post(f"/api/v1/meetups/{other['slug']}/rsvp", json={"response": "yes"})
    await until(lambda: pages.generation > seen)

    queries.clear()
    assert TICKET in (await ben.get(f"/m/{slug}", headers=HTML)).text
    assert queries.count == 0


async def test_each_change_names_what_it_concerns(
    client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp, db: Backend
) -> None:
    """The triggers' notifications, read as a process reads them: the meetup, the people in
    a relationship, the session; everything only for a new name."""
    if db.name != "postgres":
        pytest.skip("only PostgreSQL notifies")
    slug = await host_meetup(client, sign_up)
    ben = await person(new_client, sign_up, "ben")
    await person(new_client, sign_up, "carla")
    meetup_id = await database.fetch("SELECT id FROM meetup WHERE slug = {}", slug)
    ids = {
        row["handle"]: row["id"]
        for row in await database.fetch("SELECT id, handle FROM desvirt_user")
    }
    heard: list[str] = []
    listener = await asyncpg.connect(db.url)
    await listener.add_listener(CHANNEL, lambda *notification: heard.append(notification[3]))

    async def concerns_of(action: Awaitable[httpx.Response]) -> set[str]:
        heard.clear()
        response = await action
        assert response.status_code < 400, response.text
        await database.fetch(f"SELECT pg_notify('{CHANNEL}', 'end')")
        await until(lambda: "end" in heard)
        return set(heard) - {"end"}

    try:
        answered = ben.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
        assert await concerns_of(answered) == {f"m:{meetup_id[0]['id']}"}
        blocked = ben.post("/api/v1/contacts/carla/block")
        assert await concerns_of(blocked) == {f"u:{ids['ben']}", f"u:{ids['carla']}"}
        assert await concerns_of(ben.patch("/api/v1/me", json={"locale": "es"})) == {
            f"u:{ids['ben']}"
        }
        assert "*" in await concerns_of(ben.patch("/api/v1/me", json={"display_name": "Benito"}))
        session = ben.cookies["desvirt_session"]
        assert await concerns_of(ben.post("/api/v1/auth/logout")) == {
            page_concerns(0, 0, session)[2]
        }
    finally:
        await listener.close()
