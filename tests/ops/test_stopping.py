"""`desvirt serve` stops when told to, however the signal reaches it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.ops.conftest import StartApp, wait_until_serving

STOPS = 8
# desvirt.cli.WORKER_STOP_SECONDS and some room; under the 10 s after which the `timeout`
# wrapping each test process would kill it anyway.
STOPPED_WITHIN_SECONDS = 8.5


def test_serve_stops_when_every_process_gets_sigterm_at_once(
    postgres_url: str, start_app: StartApp
) -> None:
    """Ctrl-C and a control-group kill signal the workers and their parent together."""
    waited = []
    for _ in range(STOPS):
        # Access logs on, as in production: the hang shows when the worker is busy.
        app = start_app(postgres_url, DESVIRT_LOG_LEVEL="INFO")
        wait_until_serving(app)
        with httpx.Client(base_url=app.url, timeout=5) as client:
            for _ in range(30):
                client.get("/", headers={"accept": "text/html"})
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(httpx.get, [f"{app.url}/healthz"] * 20))
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.process.pid, signal.SIGTERM)
        try:
            app.process.wait(timeout=STOPPED_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(app.process.pid, signal.SIGKILL)
            raise AssertionError(f"still running after SIGTERM:\n{app.log()}") from None
        waited.append(round(time.monotonic() - started, 1))
    assert max(waited) < STOPPED_WITHIN_SECONDS, waited
