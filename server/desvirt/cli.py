"""`desvirt serve | migrate | demo`: the commands an operator runs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from pathlib import Path

from desvirt import database
from desvirt.operations import logs
from desvirt.operations import workers as workers_setup
from desvirt.settings import Settings, SettingsError

log = logging.getLogger("desvirt.cli")

DEMO_PASSWORD = "desvirt-demo-2026"
DEMO_PEOPLE = (
    ("lucia@example.org", "lucia", "Lucía Fernández", "es", "Europe/Madrid"),
    ("mateo@example.org", "mateo", "Mateo Rodríguez", "es", "America/Bogota"),
    ("jonas@example.org", "jonas", "Jonas Müller", "de", "Europe/Berlin"),
    ("lena@example.org", "lena", "Lena Schäfer", "de", "Europe/Vienna"),
    ("emma@example.org", "emma", "Emma Clarke", "en", "Europe/London"),
    ("noah@example.org", "noah", "Noah Patel", "en", "America/New_York"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="desvirt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply pending migrations, then serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="apply pending migrations and exit")
    commands.add_parser("demo", help="load a small demo community")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
        logs.configure(settings)
        ensure_secret_key()
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"desvirt: {error}", file=sys.stderr)
        return 2

    if args.command == "migrate":
        print(asyncio.run(migrate(settings)) or "Migrations are up to date.")
        return 0
    if args.command == "demo":
        asyncio.run(migrate(settings))
        asyncio.run(load_demo(settings))
        return 0
    asyncio.run(migrate(settings))
    return serve_forever(settings, args.host, args.port, args.workers)


async def migrate(settings: Settings) -> str:
    engine = database.engine_from_url(settings.database_url)
    database.use_engine(engine)
    await database.connect(engine, pool_max=2)
    try:
        return await database.migrate()
    finally:
        await database.disconnect(engine)


# A worker that has not stopped this long after SIGTERM is killed. When the signal reaches
# the workers too (Ctrl-C, a control-group kill), granian 2.8.7's worker sometimes never
# returns: about one stop in five here, compare emmett-framework/granian#875. Otherwise it
# stops in well under a second.
WORKER_STOP_SECONDS = 5


def serve_forever(settings: Settings, host: str, port: int, workers: int) -> int:
    """Serve with granian; each worker is a process that builds its own app and engine.

    Workers share nothing but the database: sessions, rate-limit counters and the mail
    outbox live there. Metrics are the one exception, kept per process in files under
    PROMETHEUS_MULTIPROC_DIR so that any worker can answer a scrape for all of them.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    workers = max(1, workers)
    made_metrics_directory = workers_setup.prepare_metrics_directory(workers)
    log.info("serving Desvirt on http://%s:%s with %s worker(s)", host, port, workers)
    try:
        Granian(
            "desvirt.app:create_app",
            factory=True,
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            workers_kill_timeout=WORKER_STOP_SECONDS,
            log_dictconfig=logs.logging_config(settings),
            log_level=LogLevels(settings.log_level.lower())
            if settings.log_level.lower() in LogLevels.__members__
            else LogLevels.info,
        ).serve()
    finally:
        workers_setup.remove_metrics_directory(made_metrics_directory)
    return 0


async def load_demo(settings: Settings) -> None:
    """A few people in es/de/en; safe to run twice."""
    from desvirt.accounts import service
    from desvirt.accounts.tables import User

    engine = database.engine_from_url(settings.database_url)
    database.use_engine(engine)
    await database.connect(engine, pool_max=2)
    try:
        for email, handle, name, locale, zone in DEMO_PEOPLE:
            if await User.exists().where(User.handle == handle):
                continue
            await service.sign_up(
                Settings(**{**settings.__dict__, "signups_per_ip_per_hour": 0}),
                email=email,
                password=DEMO_PASSWORD,
                handle=handle,
                display_name=name,
                locale=locale,
                timezone=zone,
                client_ip="demo",
            )
        from desvirt.contacts import demo as contacts_demo
        from desvirt.meetups import demo as meetups_demo

        await contacts_demo.load()
        await meetups_demo.load()
        print(
            f"Demo community ready. Log in as lucia@example.org (or jonas@, emma@, ...) "
            f"with the password {DEMO_PASSWORD}"
        )
    finally:
        await database.disconnect(engine)


def ensure_secret_key(path: Path = Path("var/secret_key")) -> None:
    """Without DESVIRT_SECRET_KEY, keep one in ./var so restarts and workers share it."""
    if os.environ.get("DESVIRT_SECRET_KEY"):
        return
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
        log.warning("DESVIRT_SECRET_KEY is not set; generated one in %s", path)
    os.environ["DESVIRT_SECRET_KEY"] = path.read_text().strip()


if __name__ == "__main__":
    sys.exit(main())
