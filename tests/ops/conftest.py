"""Real app processes for the many-processes tests: `desvirt serve` as an operator runs it.

Each process is started in its own session with a hard `timeout`, on a port picked free in
8300-8399, and stopped (SIGTERM, then SIGKILL) when the test module ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import _create_postgres_database, _drop_postgres_database

PORTS = range(8310, 8400)
HARD_LIMIT_SECONDS = 300
STARTUP_SECONDS = 60


@dataclass
class AppProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    for port in random.sample(list(PORTS), len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8310-8399")


def desvirt_command(*arguments: str) -> list[str]:
    return [
        "timeout",
        "--kill-after=10",
        str(HARD_LIMIT_SECONDS),
        sys.executable,
        "-m",
        "desvirt.cli",
        *arguments,
    ]


def app_environment(database_url: str, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DESVIRT_", "PROMETHEUS_"))
    }
    environment.update(
        {
            "DESVIRT_DATABASE_URL": database_url,
            "DESVIRT_SECRET_KEY": "many-processes-secret",
            "DESVIRT_PASSWORD_HASH_PROFILE": "cheapest",
            "DESVIRT_SIGNUPS_PER_IP_PER_HOUR": "0",
            "DESVIRT_LOG_LEVEL": "WARNING",
            "DESVIRT_BASE_URL": "http://127.0.0.1",
            **extra,
        }
    )
    return environment


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (not migrated: the processes do that)."""
    url = asyncio.run(_create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(_drop_postgres_database(url))


StartApp = Callable[..., AppProcess]


@pytest.fixture(scope="module")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartApp]:
    """Start `desvirt serve` processes; all of them are stopped when the module ends."""
    started: list[AppProcess] = []

    def start(database_url: str, *, workers: int = 1, **settings: str) -> AppProcess:
        port = free_port()
        workdir = tmp_path_factory.mktemp("app")
        log_path = workdir / "server.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                desvirt_command("serve", "--port", str(port), "--workers", str(workers)),
                cwd=workdir,
                env=app_environment(database_url, **settings),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        app = AppProcess(f"http://127.0.0.1:{port}", process, log_path)
        started.append(app)
        return app

    yield start
    for app in started:
        stop(app.process)


def wait_until_serving(*apps: AppProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    for app in apps:
        while True:
            if app.process.poll() is not None:
                pytest.fail(f"{app.url} exited with {app.process.returncode}:\n{app.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{app.url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"{app.url} did not answer /healthz in time:\n{app.log()}")
            time.sleep(0.2)
