"""Browser tests: a real `desvirt serve` process, driven by Debian's Chromium through Playwright.

One Chromium for the whole session; each person in a test gets a browser context of their
own (cookies, language, viewport, JavaScript on or off). The server runs on a fresh SQLite
database (and, for the tests that ask for it, a fresh PostgreSQL database), on a port in
8200-8299, and stops by itself after a bounded time even if the test run is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, POSTGRES_ADMIN_DSN

CHROMIUM = Path(os.environ.get("DESVIRT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORTS = range(8200, 8300)
SERVER_LIFETIME_SECONDS = 1800
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery"
BROWSER_LOCALES = {"es": "es-ES", "de": "de-DE", "en": "en-GB"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, so the rest of the suite never shares a thread with Playwright."""
    browser_dir = Path(__file__).parent
    items.sort(key=lambda item: browser_dir in Path(str(item.path)).parents)


@dataclass
class Server:
    """A running `desvirt serve`; `url` is its base address."""

    url: str
    database: str
    log: Path


def _free_port() -> int:
    """A random port of 8200-8299 that nothing listens on (other checkouts run these tests too)."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8200-8299 for the browser test server")


def _listeners(port: int) -> int:
    """How many sockets listen on `port`: granian binds with SO_REUSEPORT, so two servers
    started at the same moment could share a port and answer each other's requests."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def _run_apart(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run async database admin work in a thread: Playwright's sync API owns this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work()).result(timeout=60)


def _create_postgres_database() -> str:
    import asyncpg

    name = f"desvirt_browser_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    try:
        _run_apart(create)
    except OSError as error:
        message = f"PostgreSQL is not answering at {POSTGRES_ADMIN_DSN}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return f"{POSTGRES_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"


def _drop_postgres_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    _run_apart(drop)


@contextlib.contextmanager
def running_server(database_url: str, workdir: Path) -> Iterator[Server]:
    """Start `desvirt serve` the way an operator does and wait until /healthz answers."""
    for _attempt in range(5):
        port = _free_port()
        process, log = _start_server(database_url, workdir, port)
        try:
            _wait_until_healthy(process, log, port)
            if _listeners(port) == 1:
                break
        except BaseException:
            _stop(process)
            raise
        _stop(process)  # another checkout's server took the same port at the same moment
    else:
        pytest.fail("could not get a port of 8200-8299 to ourselves in 5 attempts")
    try:
        yield Server(url=f"http://127.0.0.1:{port}", database=database_url, log=log)
    finally:
        _stop(process)


def _start_server(database_url: str, workdir: Path, port: int) -> tuple[Any, Path]:
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DESVIRT_DATABASE_URL": database_url,
        "DESVIRT_SECRET_KEY": "browser-test-secret",
        "DESVIRT_BASE_URL": url,
        "DESVIRT_SIGNUPS_PER_IP_PER_HOUR": "0",
        "DESVIRT_PASSWORD_HASH_PROFILE": "cheapest",
        "DESVIRT_LOG_LEVEL": "WARNING",
    }
    log = workdir / f"server-{port}.log"
    desvirt = [sys.executable, "-m", "desvirt.cli", "serve", "--host", "127.0.0.1"]
    command = [*desvirt, "--port", str(port)]
    if shutil.which("timeout"):
        command = ["timeout", str(SERVER_LIFETIME_SECONDS), *command]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return process, log


def _wait_until_healthy(process: Any, log: Path, port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"desvirt serve exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"desvirt serve did not answer in 60 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _stop(process: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server_workdir() -> Iterator[Path]:
    workdir = Path(tempfile.mkdtemp(prefix="desvirt-browser-"))
    yield workdir
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def server(server_workdir: Path) -> Iterator[Server]:
    """Desvirt on a fresh SQLite database, for the whole browser session."""
    with running_server(f"sqlite:///{server_workdir}/browser.db", server_workdir) as running:
        yield running


@pytest.fixture(scope="session")
def postgres_server(server_workdir: Path) -> Iterator[Server]:
    """Desvirt on a fresh PostgreSQL database, for the tests that also run there."""
    database_url = _create_postgres_database()
    try:
        with running_server(database_url, server_workdir) as running:
            yield running
    finally:
        _drop_postgres_database(database_url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (never a downloaded browser)."""
    if not CHROMIUM.exists():
        message = f"Chromium is missing at {CHROMIUM}: `make test` installs it (apt chromium)"
        if IN_CI:
            pytest.fail(message)
        print(f"\n{'!' * 78}\n  SKIPPING the browser tests: {message}\n{'!' * 78}", file=sys.stderr)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Person:
    """Someone using Desvirt in their own browser: a Playwright page with its own cookies."""

    page: Any
    locale: str
    handle: str = ""
    email: str = ""
    javascript: bool = True
    visited: list[str] = field(default_factory=list)

    def t(self, text: str, **params: object) -> str:
        """A text as this person's pages show it, from the same catalogs the server uses."""
        from desvirt.i18n import gettext

        return gettext(self.locale, text, **params)

    def go(self, base: str, path: str) -> Any:
        response = self.page.goto(base + path)
        assert response is not None and response.status < 400, f"{path}: {response.status}"
        return response


OpenPerson = Callable[..., Person]


@pytest.fixture
def person(browser: Any) -> Iterator[OpenPerson]:
    """Open a browser context for a person: language, viewport and JavaScript as asked."""
    contexts: list[Any] = []

    def open_person(
        locale: str = "en", *, phone: bool = False, javascript: bool = True, dark: bool = False
    ) -> Person:
        context = browser.new_context(
            locale=BROWSER_LOCALES[locale],
            viewport=PHONE if phone else DESKTOP,
            java_script_enabled=javascript,
            color_scheme="dark" if dark else "light",
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Person(page=context.new_page(), locale=locale, javascript=javascript)

    yield open_person
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def auditor(browser: Any) -> Iterator[Any]:
    """A JavaScript-enabled page that replays pages seen with JavaScript off, for axe-core."""
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


CheckPage = Callable[..., None]


@pytest.fixture
def check_page(auditor: Any) -> CheckPage:
    """What every page must pass: its language, axe-core, a phone's width, no stray English."""
    from tests.browser.inspection import (
        accessibility_problems,
        horizontal_overflow,
        save_screenshot,
        small_tap_targets,
        untranslated_texts,
    )

    def check(person: Person, screenshot: str | None = None) -> None:
        page = person.page
        html = page.content()
        where = f"{page.url} ({person.locale})"
        assert page.locator("html").get_attribute("lang") == person.locale, where
        for landmark in ("header", "nav", "main", "footer"):
            assert page.locator(landmark).count() >= 1, f"no <{landmark}> on {where}"
        if person.locale != "en":
            assert not untranslated_texts(html, person.locale), (
                f"English left on {where}: {untranslated_texts(html, person.locale)}"
            )
        overflow = horizontal_overflow(page)
        assert overflow == 0, f"{where} scrolls sideways by {overflow}px"
        small = small_tap_targets(page)
        assert not small, f"tap targets under 44px on {where}: {small}"
        if person.javascript:
            problems = accessibility_problems(page)
        else:
            url = page.url
            auditor.set_viewport_size(page.viewport_size)

            def same_page(candidate: str) -> bool:
                return candidate == url

            auditor.route(
                same_page, lambda route: route.fulfill(body=html, content_type="text/html")
            )
            try:
                auditor.goto(url)
                problems = accessibility_problems(auditor)
            finally:
                auditor.unroute(same_page)
        assert not problems, f"axe on {where}:\n" + "\n".join(problems)
        person.visited.append(page.url)
        if screenshot:
            save_screenshot(page, screenshot)

    return check


@pytest.fixture(params=["sqlite", "postgres"])
def any_server(request: pytest.FixtureRequest) -> Server:
    """The test runs once against a server on SQLite and once against one on PostgreSQL."""
    name = "server" if request.param == "sqlite" else "postgres_server"
    running: Server = request.getfixturevalue(name)
    return running
