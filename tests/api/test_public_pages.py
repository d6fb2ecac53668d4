"""Pages as people who are not signed in see them: rendered once, shared for a few seconds."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from desvirt.public_lane import PublicPageLane
from desvirt.rendering import PUBLIC_PAGES, PublicPages
from tests.api.test_meetups import host_meetup, person
from tests.conftest import ClientFactory, QueryLog, SignUp, csrf_token

HTML = {"accept": "text/html"}


class Clock:
    """A clock the test moves by hand, so expiry is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def shared_pages(app: Litestar, seconds: int = 2) -> Clock:
    clock = Clock()
    app.state[PUBLIC_PAGES] = PublicPages(seconds, clock=clock)
    return clock


async def test_visitors_without_a_session_share_one_rendering_of_a_meetup_page(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    queries: QueryLog,
) -> None:
    shared_pages(app)
    slug = await host_meetup(client, sign_up)
    first, second = await new_client(), await new_client()

    queries.clear()
    seen_first = await first.get(f"/m/{slug}", headers=HTML)
    assert seen_first.status_code == 200
    assert queries.count > 0
    queries.clear()
    seen_second = await second.get(f"/m/{slug}", headers=HTML)
    assert seen_second.status_code == 200
    assert queries.count == 0  # served from the shared rendering
    assert "Cañas #desvirt Madrid" in seen_second.text
    assert "Log in to answer" in seen_second.text

    # Each visitor's forms carry their own CSRF token, and it works for them.
    first_token, second_token = csrf_token(seen_first.text), csrf_token(seen_second.text)
    assert first_token != second_token
    switched = await second.post(
        "/language",
        data={"locale": "de", "next": f"/m/{slug}", "_csrf_token": second_token},
        headers=HTML,
    )
    assert switched.status_code in (302, 303)
    refused = await first.post(
        "/language",
        data={"locale": "de", "next": f"/m/{slug}", "_csrf_token": second_token},
        headers=HTML,
    )
    assert refused.status_code == 403


async def test_a_change_reaches_visitors_once_the_shared_page_expires(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
) -> None:
    clock = shared_pages(app, seconds=2)
    slug = await host_meetup(client, sign_up, capacity=3)
    visitor = await new_client()
    assert "0 of 3 seats taken." in (await visitor.get(f"/m/{slug}", headers=HTML)).text

    guest = await person(new_client, sign_up, "bea")
    assert (await guest.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})).is_success
    # Signed-in people never get the shared page: the guest sees their own answer at once.
    own_view = (await guest.get(f"/m/{slug}", headers=HTML)).text
    assert "1 of 3 seats taken." in own_view
    assert "Your ticket for the door" in own_view

    clock.now += 1.9
    assert "0 of 3 seats taken." in (await visitor.get(f"/m/{slug}", headers=HTML)).text
    clock.now += 0.2
    assert "1 of 3 seats taken." in (await visitor.get(f"/m/{slug}", headers=HTML)).text


async def test_shared_pages_are_kept_per_language(
    app: Litestar, client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    shared_pages(app)
    slug = await host_meetup(client, sign_up)
    spanish, german = await new_client(), await new_client()
    es = await spanish.get(f"/m/{slug}", headers={**HTML, "accept-language": "es"})
    de = await german.get(f"/m/{slug}", headers={**HTML, "accept-language": "de"})
    assert '<html lang="es">' in es.text
    assert '<html lang="de">' in de.text
    assert "Cookie" in es.headers["vary"] and "Accept-Language" in es.headers["vary"]


async def test_a_page_that_is_not_found_is_never_shared(
    app: Litestar, client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    clock = shared_pages(app)
    slug = await host_meetup(client, sign_up, visibility="contacts")
    stranger = await new_client()
    assert (await stranger.get(f"/m/{slug}", headers=HTML)).status_code == 404
    assert (await client.patch(f"/api/v1/meetups/{slug}", json={"visibility": "public"})).is_success
    clock.now += 0.1
    assert (await stranger.get(f"/m/{slug}", headers=HTML)).status_code == 200


async def test_the_front_page_is_shared_too_and_zero_seconds_shares_nothing(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
    queries: QueryLog,
) -> None:
    shared_pages(app)
    await host_meetup(client, sign_up)
    visitor = await new_client()
    assert "Cañas #desvirt Madrid" in (await visitor.get("/", headers=HTML)).text
    queries.clear()
    assert (await visitor.get("/", headers=HTML)).status_code == 200
    assert queries.count == 0

    shared_pages(app, seconds=0)
    await visitor.get("/", headers=HTML)
    queries.clear()
    assert (await visitor.get("/", headers=HTML)).status_code == 200
    assert queries.count > 0


def test_the_shared_pages_hold_a_bounded_number_of_pages() -> None:
    pages = PublicPages(60, max_pages=3)
    for index in range(5):
        pages.put(("meetup", str(index)), b"page")
    assert pages.get(("meetup", "0")) is None
    assert pages.get(("meetup", "4")) == b"page"


async def test_a_kept_page_is_answered_in_front_of_litestar_with_the_visitors_own_csrf_cookie(
    app: Litestar,
    client: httpx.AsyncClient,
    new_client: ClientFactory,
    sign_up: SignUp,
) -> None:
    shared_pages(app)
    slug = await host_meetup(client, sign_up)
    first_visit = await (await new_client()).get(f"/m/{slug}", headers=HTML)  # renders, keeps

    lane: Any = app.asgi_handler
    while not isinstance(lane, PublicPageLane):
        lane = lane.app
    litestar_handler = lane.app

    async def litestar_must_not_answer(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError(f"Litestar was asked for {scope['path']}")

    lane.app = litestar_must_not_answer
    try:
        visitor = await new_client()
        seen = await visitor.get(f"/m/{slug}", headers=HTML)
        again = await visitor.get(f"/m/{slug}", headers=HTML)
    finally:
        lane.app = litestar_handler
    assert seen.status_code == 200
    assert seen.headers["content-type"] == first_visit.headers["content-type"]
    assert seen.headers["vary"] == first_visit.headers["vary"]
    assert seen.headers["x-request-id"]
    cookie = seen.headers["set-cookie"]
    assert cookie.startswith("desvirt_csrf=") and "HttpOnly" in cookie and "Path=/" in cookie
    token = csrf_token(seen.text)
    assert visitor.cookies["desvirt_csrf"] == token
    first_token = csrf_token(first_visit.text)
    assert seen.text.replace(token, "T") == first_visit.text.replace(first_token, "T")
    # With the cookie kept, the next view sets none and carries the same token.
    assert "set-cookie" not in again.headers
    assert csrf_token(again.text) == token
    switched = await visitor.post(
        "/language", data={"locale": "es", "next": f"/m/{slug}", "_csrf_token": token}
    )
    assert switched.status_code == 303

    # A signed-in person, a query string or a page not kept yet: Litestar answers.
    lane.app = litestar_must_not_answer
    try:
        for path, who in ((f"/m/{slug}", client), (f"/m/{slug}?utm_source=chat", visitor),
                          ("/m/not-kept-yet", visitor)):  # fmt: skip
            try:
                await who.get(path, headers=HTML)
            except AssertionError:
                continue
            raise AssertionError(f"{path} was answered without Litestar")
    finally:
        lane.app = litestar_handler


async def test_a_visitors_language_cookie_picks_the_kept_page_in_that_language(
    app: Litestar, client: httpx.AsyncClient, new_client: ClientFactory, sign_up: SignUp
) -> None:
    shared_pages(app)
    slug = await host_meetup(client, sign_up)
    await (await new_client()).get(f"/m/{slug}", headers={**HTML, "accept-language": "de"})
    visitor = await new_client()
    visitor.cookies.set("desvirt_lang", "de")
    assert '<html lang="de">' in (await visitor.get(f"/m/{slug}", headers=HTML)).text
