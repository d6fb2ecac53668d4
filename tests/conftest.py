"""Database tests run twice: on SQLite and on PostgreSQL, each in a fresh database of its own."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

_SCRATCH = Path(tempfile.mkdtemp(prefix="desvirt-tests-"))
os.environ["DESVIRT_DATABASE_URL"] = f"sqlite:///{_SCRATCH}/import.db"
os.environ.setdefault("DESVIRT_SECRET_KEY", "test-secret")
os.environ["PICCOLO_CONF"] = "desvirt.piccolo_conf"

from litestar import Litestar  # noqa: E402
from piccolo.apps.migrations.tables import Migration  # noqa: E402
from piccolo.conf.apps import Finder  # noqa: E402
from piccolo.engine.base import Engine  # noqa: E402
from piccolo.table import sort_table_classes  # noqa: E402

from desvirt import database  # noqa: E402
from desvirt.app import create_app, process_memory  # noqa: E402
from desvirt.settings import Settings  # noqa: E402

POSTGRES_ADMIN_DSN = os.environ.get(
    "DESVIRT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Backend:
    name: str
    url: str
    engine: Engine


async def _create_postgres_database() -> str:
    name = f"desvirt_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not answering at {POSTGRES_ADMIN_DSN}: {error}"
        if IN_CI:
            pytest.fail(f"{message}. CI=true requires the PostgreSQL half of the suite.")
        banner = "!" * 78
        print(f"\n{banner}\n  SKIPPING every PostgreSQL test: {message}\n{banner}", file=sys.stderr)
        pytest.skip(message)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """A migrated, empty database of each kind, for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{_SCRATCH}/{uuid.uuid4().hex[:8]}.db"
    else:
        url = await _create_postgres_database()
    engine = database.engine_from_url(url)
    database.use_engine(engine)
    await database.connect(engine, pool_max=40)
    try:
        await database.migrate()
        yield Backend(request.param, url, engine)
    finally:
        await database.disconnect(engine)
        if request.param == "postgres":
            await _drop_postgres_database(url)


@pytest.fixture
async def db(backend: Backend) -> Backend:
    """The backend, emptied of every row from earlier tests and made the current engine."""
    database.use_engine(backend.engine)
    # Children before parents, so no foreign key is broken on the way. DELETE, not TRUNCATE:
    # on tables this small PostgreSQL deletes in milliseconds and truncates in a quarter second.
    tables = sort_table_classes([t for t in Finder().get_table_classes() if t is not Migration])
    statements = [f'DELETE FROM "{table._meta.tablename}"' for table in reversed(tables)]
    for statement in statements:
        await backend.engine.run_ddl(statement)
    return backend


@pytest.fixture
def settings(db: Backend) -> Settings:
    return Settings(
        database_url=db.url,
        secret_key="test-secret",
        base_url="http://testserver.local",
        password_hash_profile="cheapest",
        signups_per_ip_per_hour=0,
    )


_APPS: dict[tuple[str, Settings], Litestar] = {}


@pytest.fixture
def app(settings: Settings, db: Backend) -> Litestar:
    """One app per database and settings for the session (building one is 0.2-0.6 s of
    Litestar route registration); what an app keeps in memory is new for every test."""
    key = (db.url, settings)
    built = _APPS.get(key)
    if built is None:
        built = _APPS[key] = create_app(settings, engine=db.engine)
    built.state.update(process_memory(settings))
    return built


def open_client(app: Litestar) -> httpx.AsyncClient:
    """An HTTP client that calls the app in this event loop (so it shares the engine's pool)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    )


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with open_client(app) as test_client:
        yield test_client


ClientFactory = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_client(app: Litestar) -> AsyncIterator[ClientFactory]:
    """More browsers on the same app: each has its own cookie jar."""
    opened: list[httpx.AsyncClient] = []

    async def open_another() -> httpx.AsyncClient:
        test_client = open_client(app)
        opened.append(test_client)
        return test_client

    yield open_another
    for test_client in opened:
        await test_client.aclose()


SignUp = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def sign_up() -> SignUp:
    """Sign a person up through the API with a given client; returns their profile."""

    async def sign_up_with(
        test_client: httpx.AsyncClient, handle: str, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "email": f"{handle}@example.org",
            "password": "correct horse battery",
            "handle": handle,
            "display_name": handle.capitalize(),
            **extra,
        }
        response = await test_client.post("/api/v1/auth/signup", json=body)
        assert response.status_code == 201, response.text
        profile: dict[str, Any] = response.json()
        return profile

    return sign_up_with


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries, as a browser would submit it."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@dataclass
class QueryLog:
    """SQL statements the engine ran while counting; `count` is what tests assert on."""

    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def queries(db: Backend) -> Any:
    """Counts the SQL statements the app runs, through Piccolo's own query log hook."""
    engine = db.engine
    log = QueryLog([])
    original_class = type(engine)

    def record(self: Engine, query_id: int, query: str) -> None:
        log.statements.append(query)

    # Engines use __slots__, so the hook is swapped in through a slot-less subclass.
    counting_class = type(
        f"Counting{original_class.__name__}",
        (original_class,),
        {"__slots__": (), "print_query": record},
    )
    engine.__class__ = counting_class
    engine.log_queries = True
    try:
        yield log
    finally:
        engine.log_queries = False
        engine.__class__ = original_class
