"""One database engine per process, chosen by URL, plus migrations and safe write transactions."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

log = logging.getLogger("desvirt.database")

PICCOLO_CONF = "desvirt.piccolo_conf"
SQLITE_BUSY_TIMEOUT_SECONDS = 20
# Any fixed 64-bit number; processes migrating the same PostgreSQL database queue on it.
MIGRATION_LOCK = 0x64657376_6D696772  # "desv" "migr"

_write_locks: dict[int, asyncio.Lock] = {}


def engine_from_url(url: str) -> Engine:
    """Build (but do not connect) the Piccolo engine a DESVIRT_DATABASE_URL names."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
        return SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    if parts.scheme in ("postgresql", "postgres"):
        return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})
    raise ValueError(f"unsupported database URL {url!r}")


def sqlite_path(url: str) -> str:
    """`sqlite:///var/x.db` is relative to the working directory, `sqlite:////x.db` absolute."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise ValueError(f"a SQLite URL looks like sqlite:///relative.db, not {url!r}")
    return unquote(rest[1:]) or "var/desvirt.db"


def use_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's own migration machinery) at this engine."""
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    from desvirt import piccolo_conf

    piccolo_conf.DB = engine
    for table in _all_tables(Table):
        table._meta.db = engine


def current_engine() -> Engine:
    from desvirt import piccolo_conf

    return piccolo_conf.DB


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "sqlite"


async def connect(engine: Engine, pool_max: int = 20) -> None:
    """Open the connection pool where the engine has one."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=1, max_size=pool_max, connection_class=PooledConnection
        )


class PooledConnection(asyncpg.Connection):
    """A pool connection returned without asyncpg's reset query.

    asyncpg sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on
    every release, a second round trip for every query run outside a transaction (it
    measured 150 µs of CPU per query here). Desvirt never leaves session state on a pooled
    connection: no SET, LISTEN, cursors or session advisory locks (the migration lock has a
    connection of its own). An open transaction is still rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run a hand-written read (`{}` placeholders) with the least work per call.

    The hot reads (a meetup and its attendees, feed versions) use it: Piccolo's `raw()`
    recompiles the SQL and builds a query object on every call. On PostgreSQL it runs on
    the current transaction's connection if there is one, else on a pooled one; on SQLite
    it is Piccolo's own path. It logs through Piccolo's query log either way.
    """
    engine = current_engine()
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        rows = await engine.run_querystring(QueryString(sql, *args))
        return list(engine.transform_response_to_dicts(rows))
    if engine.log_queries:  # as Piccolo logs: the statement with its values in place
        engine.print_query(query_id=engine.get_query_id(), query=str(QueryString(sql, *args)))
    transaction = engine.current_transaction.get()
    if transaction is not None:
        records = await transaction.connection.fetch(_numbered(sql), *args)
    else:
        async with engine.pool.acquire() as connection:
            records = await connection.fetch(_numbered(sql), *args)
    return [dict(record) for record in records]


TableRow = TypeVar("TableRow", bound=Table)


def column_names(table: type[Table]) -> list[str]:
    """A table's columns as a hand-written SELECT for `loaded` names them."""
    return [column._meta.db_column_name for column in table._meta.columns]


def loaded(table: type[TableRow], values: dict[str, Any]) -> TableRow:
    """A row read with `fetch`, as the table object Piccolo's `objects()` would give."""
    return table(_ignore_missing=True, _exists_in_db=True, **values)


async def disconnect(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def migrate() -> str:
    """Apply every pending migration of every app; returns Piccolo's report.

    Several processes may start at once (replicas, `desvirt serve` on two hosts): they
    queue on a lock, so one applies the migrations and the others then find none pending.
    PostgreSQL: a session-level advisory lock on its own connection (released even if the
    process dies); SQLite: an exclusive lock on a file beside the database.
    """
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    from piccolo.apps.migrations.commands.forwards import run_forwards

    async with _migration_lock(current_engine()):
        report = io.StringIO()
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{report.getvalue()}")
    return report.getvalue()


async def database_answers(within_seconds: float = 2.0) -> bool:
    """True when a trivial query comes back in time; used by /healthz."""
    from piccolo.apps.migrations.tables import Migration

    try:
        await asyncio.wait_for(Migration.raw("SELECT 1").run(), within_seconds)
    except Exception:  # any failure to answer means unhealthy, whatever the driver raised
        log.warning("database did not answer the health check", exc_info=True)
        return False
    return True


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that takes its write lock up front, so read-then-write cannot race.

    PostgreSQL callers lock the rows they decide on (`lock_rows()`); on SQLite the whole
    database is the lock: writers in this process queue on an asyncio lock, and other
    processes wait on SQLite's busy timeout through BEGIN IMMEDIATE.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        lock = _write_locks.setdefault(id(engine), asyncio.Lock())
        async with lock, engine.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


@contextlib.asynccontextmanager
async def _migration_lock(engine: Engine) -> AsyncIterator[None]:
    if isinstance(engine, PostgresEngine):
        import asyncpg

        connection = await asyncpg.connect(**engine.config)
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
                log.info("another process is migrating this database; waiting for it")
                await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            yield
        finally:
            # Closing the connection releases the lock too; unlock first to be explicit.
            with contextlib.suppress(Exception):
                await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
            await connection.close()
    elif isinstance(engine, SQLiteEngine):
        import fcntl

        lock_path = f"{engine.path}.migrate-lock"
        descriptor = await asyncio.to_thread(os.open, lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the flock
    else:
        yield


@cache
def _numbered(sql: str) -> str:
    """`{}` placeholders as PostgreSQL's `$1, $2, ...`, compiled once per statement."""
    parts = sql.split("{}")
    return "".join(f"{part}${index}" for index, part in enumerate(parts[:-1], 1)) + parts[-1]


def _enable_wal(path: str) -> None:
    # journal_mode=WAL is stored in the database file, so setting it once is enough.
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _all_tables(base: type[Table]) -> list[type[Table]]:
    found: list[type[Table]] = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_all_tables(sub))
    return found
