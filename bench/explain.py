"""EXPLAIN ANALYZE of every SQL statement the benchmarked pages run.

The app is called in-process (httpx's ASGI transport) with Piccolo's query log hooked, so the
statements are exactly the ones the pages send; each is then explained on the same database.

    python -m bench.explain postgresql://postgres@127.0.0.1:5432/desvirt_bench_large
(after `python -m bench.run --db large --keep`)
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any

import asyncpg
import httpx
from piccolo.engine.base import Engine

from bench import scenario
from desvirt import database
from desvirt.app import create_app
from desvirt.settings import Settings

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


async def explain_pages(dsn: str, settings: Settings, seeded: scenario.Scenario) -> dict[str, Any]:
    engine = database.engine_from_url(dsn)
    database.use_engine(engine)
    await database.connect(engine, pool_max=2)
    statements: list[str] = []
    _record_queries(engine, statements)
    app = create_app(settings, engine=engine)
    pages: dict[str, list[str]] = {}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=settings.base_url
        ) as client:
            await client.post(
                "/api/v1/auth/login",
                json={"email": seeded.viewer_email, "password": scenario.BENCH_PASSWORD},
            )
            for name, path in (("meetup_page", seeded.meetup_path), ("feed", seeded.feed_path)):
                statements.clear()
                response = await client.get(path, headers={"Accept": "text/html"})
                if response.status_code == 200:
                    pages[name] = list(statements)
            statements.clear()
            await client.post(
                seeded.rsvp_paths[0],
                json={"response": "yes"},
                headers={"Authorization": f"Bearer {seeded.rsvp_tokens[0]}"},
            )
            pages["rsvp_write"] = list(statements)
    finally:
        await database.disconnect(engine)
    return {name: await _explain(dsn, sql) for name, sql in pages.items()}


async def _explain(dsn: str, statements: list[str]) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(dsn)
    plans = []
    try:
        for sql in statements:
            if WRITES.match(sql) or "FOR UPDATE" in sql.upper():
                plans.append({"sql": sql, "plan": "(write or lock: not explained)"})
                continue
            try:
                rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in rows)
            except asyncpg.PostgresError as error:
                plan = f"(could not explain: {error})"
            plans.append({"sql": sql, "plan": plan})
    finally:
        await connection.close()
    return plans


def _record_queries(engine: Engine, statements: list[str]) -> None:
    def record(self: Engine, query_id: int, query: str) -> None:
        statements.append(str(query))

    # Engines use __slots__, so the hook goes in through a slot-less subclass (as in tests).
    engine.__class__ = type(
        f"Logging{type(engine).__name__}", (type(engine),), {"__slots__": (), "print_query": record}
    )
    engine.log_queries = True


def as_markdown(plans: dict[str, list[dict[str, Any]]]) -> str:
    out = []
    for page, entries in plans.items():
        out.append(f"#### {page}: {len(entries)} statements\n")
        for entry in entries:
            out.append("```sql\n" + entry["sql"].strip() + "\n```\n")
            out.append("```\n" + entry["plan"] + "\n```\n")
    return "\n".join(out)


if __name__ == "__main__":
    from bench.run import SECRET

    target = sys.argv[1]
    settings = Settings(database_url=target, secret_key=SECRET, base_url="http://127.0.0.1:8350")
    seeded = scenario.describe(settings)
    print(as_markdown(asyncio.run(explain_pages(target, settings, seeded))))
