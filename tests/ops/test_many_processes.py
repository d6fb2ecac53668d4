"""Two app processes on one PostgreSQL behave as one instance: nothing that matters lives in
a process's memory. Sessions, rate limits and (once notifications has it) the mail outbox
are in the database; migrations from processes starting together are applied once; what
one process keeps (feed versions, signed-in pages) follows changes made through the other."""

from __future__ import annotations

import email
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import (
    AppProcess,
    StartApp,
    app_environment,
    desvirt_command,
    wait_until_serving,
)

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def two_apps(postgres_url: str, start_app: StartApp) -> Iterator[tuple[AppProcess, AppProcess]]:
    # Both start at the same moment on an empty database: both try to migrate it.
    first = start_app(postgres_url, DESVIRT_LOGIN_FAILURES_ALLOWED="3")
    second = start_app(postgres_url, DESVIRT_LOGIN_FAILURES_ALLOWED="3")
    wait_until_serving(first, second)
    yield first, second


def sign_up(browser: httpx.Client, handle: str) -> None:
    response = browser.post(
        "/api/v1/auth/signup",
        json={
            "email": f"{handle}@example.org",
            "password": "correct horse battery",
            "handle": handle,
            "display_name": handle.capitalize(),
        },
    )
    assert response.status_code == 201, response.text


def host_meetup(host: httpx.Client, title: str, starts_at: str, ends_at: str) -> str:
    """A meetup in Madrid made through the API; its slug."""
    created = host.post(
        "/api/v1/meetups",
        json={
            "title": title,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "timezone": "Europe/Madrid",
        },
    )
    assert created.status_code == 201, created.text
    slug: str = created.json()["slug"]
    return slug


def test_processes_starting_together_migrate_the_database_once(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    for app in two_apps:
        assert app.process.poll() is None, app.log()
        assert "migrations failed" not in app.log()


def test_a_session_started_on_one_process_works_on_the_other(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    first, second = two_apps
    with httpx.Client(base_url=first.url, timeout=10) as on_first:
        sign_up(on_first, "ana")
        cookies = on_first.cookies
        with httpx.Client(base_url=second.url, cookies=cookies, timeout=10) as on_second:
            me = on_second.get("/api/v1/me")
            assert me.status_code == 200
            assert me.json()["handle"] == "ana"
            assert on_second.post("/api/v1/auth/logout").status_code == 204
        # Logged out on the second process means logged out everywhere.
        assert on_first.get("/api/v1/me").status_code == 401


def test_a_form_served_by_one_process_is_accepted_by_the_other(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    first, second = two_apps
    with httpx.Client(base_url=first.url, timeout=10) as browser:
        page = browser.get("/signup", headers={"Accept": "text/html"})
        token = CSRF_FIELD.search(page.text)
        assert token, "the signup page has no CSRF field"
        answer = browser.post(
            f"{second.url}/signup",
            data={
                "_csrf_token": token.group(1),
                "email": "bob@example.org",
                "password": "correct horse battery",
                "handle": "bob",
                "display_name": "Bob",
                "timezone": "UTC",
                "locale": "en",
            },
            headers={"Accept": "text/html"},
        )
        assert answer.status_code in (200, 303), answer.text[:500]
        assert browser.get(f"{first.url}/api/v1/me").json()["handle"] == "bob"


def test_login_failures_on_one_process_count_on_the_other(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    first, second = two_apps
    with httpx.Client(base_url=first.url, timeout=10) as on_first:
        sign_up(on_first, "carla")
    wrong = {"email": "carla@example.org", "password": "not her password"}
    for _ in range(3):
        assert httpx.post(f"{first.url}/api/v1/auth/login", json=wrong).status_code == 401
    limited = httpx.post(f"{second.url}/api/v1/auth/login", json=wrong)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


def test_a_change_made_on_one_process_reaches_feed_polls_on_the_other(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    first, second = two_apps
    with (
        httpx.Client(base_url=first.url, timeout=10) as host,
        httpx.Client(base_url=second.url, timeout=10) as guest,
    ):
        sign_up(host, "dora")
        sign_up(guest, "eloy")
        slug = host_meetup(host, "Vermut en Chamberí", "2031-05-10T12:00", "2031-05-10T14:00")
        feed = "/" + guest.get("/api/v1/me").json()["feed_url"].split("/", 3)[3]
        etag = httpx.get(f"{first.url}{feed}").headers["etag"]
        for app in two_apps:  # each process reads the version once, then keeps it
            for _ in range(2):
                poll = httpx.get(f"{app.url}{feed}", headers={"If-None-Match": etag})
                assert poll.status_code == 304

        assert guest.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"}).is_success
        changed = poll_until_changed(first, feed, etag)
        assert "SUMMARY:Vermut en Chamberí" in changed.text

        etag = changed.headers["etag"]
        assert httpx.get(f"{second.url}{feed}", headers={"If-None-Match": etag}).status_code == 304
        edited = host.patch(f"/api/v1/meetups/{slug}", json={"title": "Vermut en Malasaña"})
        assert edited.is_success, edited.text
        assert "SUMMARY:Vermut en Malasaña" in poll_until_changed(second, feed, etag).text


def test_a_page_kept_on_one_process_shows_changes_made_through_the_other(
    two_apps: tuple[AppProcess, AppProcess],
) -> None:
    first, second = two_apps
    html = {"Accept": "text/html"}
    ticket = "Your ticket for the door"
    with (
        httpx.Client(base_url=first.url, timeout=10) as host,
        httpx.Client(base_url=first.url, timeout=10) as guest,
        httpx.Client(base_url=second.url, timeout=10) as other,
    ):
        sign_up(host, "fiona")
        sign_up(guest, "gael")
        sign_up(other, "hugo")
        slug = host_meetup(host, "Cañas en Lavapiés", "2031-06-10T19:00", "2031-06-10T22:00")
        page, rsvp = f"/m/{slug}", f"/api/v1/meetups/{slug}/rsvp"
        assert guest.post(rsvp, json={"response": "yes"}).is_success
        for _ in range(3):  # rendered once, then kept by the first process
            assert ticket in guest.get(page, headers=html).text

        # Someone else's answer, through the second process, reaches the kept page.
        assert other.post(rsvp, json={"response": "yes"}).is_success
        deadline = time.monotonic() + 5
        while "Hugo" not in guest.get(page, headers=html).text:
            assert time.monotonic() < deadline, "the first process still shows the old page"
            time.sleep(0.05)

        # My own change through the second process shows on the first at once.
        declined = guest.post(f"{second.url}{rsvp}", json={"response": "no"})
        assert declined.is_success
        assert "desvirt_writes" in declined.headers["set-cookie"]
        assert ticket not in guest.get(page, headers=html).text


def poll_until_changed(app: AppProcess, feed: str, etag: str) -> httpx.Response:
    """A calendar app's next poll: the change arrives by NOTIFY, milliseconds after commit."""
    deadline = time.monotonic() + 5
    while True:
        poll = httpx.get(f"{app.url}{feed}", headers={"If-None-Match": etag})
        if poll.status_code != 304 or time.monotonic() > deadline:
            assert poll.status_code == 200, f"{app.url} still answers 304 for a changed feed"
            return poll
        time.sleep(0.05)


def test_each_mail_is_sent_once_with_two_processes(start_app: StartApp) -> None:
    from desvirt.notifications import service

    if not hasattr(service, "send_due"):
        pytest.skip(
            "notifications has no mail outbox on this branch yet (no send_due in "
            "desvirt.notifications.service): nothing to send twice"
        )
    import asyncio
    from datetime import UTC, datetime, timedelta

    import asyncpg
    from aiosmtpd.controller import Controller

    from tests.conftest import _create_postgres_database, _drop_postgres_database
    from tests.ops.conftest import free_port, stop

    received: list[str] = []

    class Collect:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            message = email.message_from_bytes(envelope.content)
            received.append(str(message["Message-ID"]))
            return "250 OK"

    # A database of its own: the other tests' processes run mail workers too.
    postgres_url = asyncio.run(_create_postgres_database())
    smtp = Controller(Collect(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    smtp_url = f"smtp://127.0.0.1:{smtp.port}"
    first = start_app(postgres_url, DESVIRT_SMTP_URL=smtp_url)
    second = start_app(postgres_url, DESVIRT_SMTP_URL=smtp_url)
    try:
        wait_until_serving(first, second)
        starts = datetime.now(UTC) + timedelta(days=10)
        with httpx.Client(base_url=first.url, timeout=20) as host:
            sign_up(host, "mailhost")
            created = host.post(
                "/api/v1/meetups",
                json={
                    "title": "Mail once",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                    "timezone": "UTC",
                    "capacity": 100,
                },
            )
            assert created.status_code == 201, created.text
            slug = created.json()["slug"]
        guests = 20
        for index in range(guests):
            app = (first, second)[index % 2]
            with httpx.Client(base_url=app.url, timeout=20) as guest:
                sign_up(guest, f"mailguest{index}")
                answer = guest.post(f"/api/v1/meetups/{slug}/rsvp", json={"response": "yes"})
                assert answer.status_code == 200, answer.text

        async def outbox() -> tuple[int, list[int]]:
            connection = await asyncpg.connect(postgres_url)
            try:
                waiting = await connection.fetchval(
                    "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL AND due_at <= now()"
                )
                sent = await connection.fetch(
                    "SELECT id FROM outbox_message WHERE sent_at IS NOT NULL"
                )
            finally:
                await connection.close()
            return int(waiting), sorted(int(row["id"]) for row in sent)

        deadline = time.monotonic() + 60
        waiting, sent = asyncio.run(outbox())
        while (waiting or len(sent) < guests) and time.monotonic() < deadline:
            time.sleep(1)
            waiting, sent = asyncio.run(outbox())
        time.sleep(2)  # a duplicate, if any, would arrive now
        assert waiting == 0, f"{waiting} due mails still unsent:\n{first.log()[-2000:]}"
        assert len(sent) >= guests
        assert len(received) == len(set(received)), "a mail was delivered twice"
        expected = {f"<outbox-{message_id}@127.0.0.1>" for message_id in sent}
        assert set(received) == expected
    finally:
        smtp.stop()
        for app in (first, second):
            stop(app.process)
        asyncio.run(_drop_postgres_database(postgres_url))


def test_metrics_of_several_workers_add_up(postgres_url: str, start_app: StartApp) -> None:
    app = start_app(postgres_url, workers=2)
    wait_until_serving(app)
    for _ in range(40):
        assert httpx.get(f"{app.url}/healthz", timeout=10).status_code == 200
    # Whichever worker answers the scrape, it reports the requests of both.
    for _ in range(4):
        text = httpx.get(f"{app.url}/metrics", timeout=10).text
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "desvirt_http_requests_total" and sample.labels["route"] == "/healthz"
        )
        assert counted >= 40


def test_migrate_from_three_processes_at_once_applies_each_migration_once(
    postgres_url: str, tmp_path: Path
) -> None:
    import asyncio

    import asyncpg

    from tests.conftest import _create_postgres_database, _drop_postgres_database

    url = asyncio.run(_create_postgres_database())
    try:
        processes = [
            subprocess.Popen(
                desvirt_command("migrate"),
                cwd=tmp_path,
                env=app_environment(url),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
        assert [process.returncode for process in processes] == [0, 0, 0], outputs

        async def applied() -> list[tuple[str, str, int]]:
            connection = await asyncpg.connect(url)
            try:
                rows = await connection.fetch(
                    "SELECT app_name, name, count(*) AS n FROM migration GROUP BY app_name, name"
                )
            finally:
                await connection.close()
            return [(row["app_name"], row["name"], row["n"]) for row in rows]

        rows = asyncio.run(applied())
        assert rows, "no migration was recorded"
        assert all(count == 1 for _, _, count in rows), rows
    finally:
        asyncio.run(_drop_postgres_database(url))


def test_migrate_from_three_processes_at_once_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    processes = [
        subprocess.Popen(
            desvirt_command("migrate"),
            cwd=tmp_path,
            env=app_environment(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
