"""Load benchmarks on 127.0.0.1: Desvirt's pages against a bare Litestar endpoint.

    python -m bench.run --db small            # the scenario alone
    python -m bench.run --db large            # plus 100k people, 1M contact events, 50k meetups

Creates (and afterwards drops) the PostgreSQL database `desvirt_bench_<db>`, migrates it,
seeds `bench/scenario.py`, starts `desvirt serve` and `bench/bare.py` with the same granian
settings and worker count, then for each case measures sequential latency (one request at
a time) and throughput under wrk, every run bounded in time. Results: bench/results/<db>.json
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import generate, scenario
from desvirt.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ADMIN_DSN = os.environ.get("DESVIRT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_PORT, BARE_PORT = 8350, 8351
SECRET = "bench-secret-not-for-production"
HARD_LIMIT = 900
WRITE_RATES = (1, 10)  # RSVP writes per second alongside the kept attendee page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["small", "large"], default="small")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sequential", type=int, default=200, help="requests per latency probe")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="also EXPLAIN the pages' SQL")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    return asyncio.run(run(args))


async def run(args: argparse.Namespace) -> int:
    name = f"desvirt_bench_{args.db}"
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    machine = _machine()
    await _recreate_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="desvirt-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = _environment(dsn)
        await asyncio.to_thread(
            subprocess.run, _desvirt("migrate"), env=env, cwd=workdir, check=True,
            capture_output=True,
        )
        generated: dict[str, Any] = {}
        if args.db == "large":
            print("generating the large database ...", flush=True)
            generated["seconds"] = await generate.generate(dsn)
        settings = Settings(database_url=dsn, secret_key=SECRET)
        seeded = await scenario.seed(dsn, settings)
        generated["rows"] = await generate.counts(dsn)
        await _analyze(dsn)
        log_path = workdir / "server.log"
        processes.append(
            _start(_desvirt("serve", "--port", str(APP_PORT), "--workers", str(args.workers)),
                   env, workdir, log_path)
        )
        processes.append(
            _start(_timeout([sys.executable, "-m", "bench.bare", "--port", str(BARE_PORT),
                             "--workers", str(args.workers)]), env, ROOT, workdir / "bare.log")
        )
        app, bare = f"http://127.0.0.1:{APP_PORT}", f"http://127.0.0.1:{BARE_PORT}"
        _wait(f"{app}/healthz", processes[0], log_path)
        _wait(f"{bare}/", processes[1], workdir / "bare.log")
        # The plans of the scenario as seeded, before the write cases add answers to it.
        plans = None
        if args.explain:
            from bench import explain

            plans = await explain.explain_pages(dsn, settings, seeded)
        results = await _measure(args, app, bare, seeded, workdir)
        results["app_memory_mb"] = _group_rss_mb(processes[0].pid)
        results["load_average_after"] = os.getloadavg()
        if plans is not None:
            results["explain"] = plans
        results["database"] = generated
        results["machine"] = machine
        results["settings"] = {
            "duration_s": args.duration,
            "connections": args.connections,
            "workers": args.workers,
            "wrk_threads": 1,
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"{args.db}.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        print(_markdown(results, args.db))
        print(f"\nwritten to {out.relative_to(ROOT)}")
        return 0
    finally:
        for process in processes:
            _stop(process)
        if not args.keep:
            await _drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


async def _measure(
    args: argparse.Namespace, app: str, bare: str, seeded: scenario.Scenario, workdir: Path
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        login = await client.post(
            f"{app}/api/v1/auth/login",
            json={"email": seeded.viewer_email, "password": scenario.BENCH_PASSWORD},
        )
        login.raise_for_status()
        page = await client.get(f"{app}{seeded.meetup_path}", headers={"Accept": "text/html"})
        attendees_shown = page.text.count("bench_a") + page.text.count("Bench A")
        # What the browser now sends: its session and its CSRF cookie.
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        page_headers = {"Cookie": cookie, "Accept": "text/html"}
        async with httpx.AsyncClient(timeout=30) as visitor:
            visitor_page = await visitor.get(
                f"{app}{seeded.meetup_path}", headers={"Accept": "text/html"}
            )
        me = await client.get(f"{app}/api/v1/me")
        feed = await client.get(f"{app}{seeded.feed_path}")
        etag = feed.headers.get("etag")
        feed_events = feed.text.count("BEGIN:VEVENT") if feed.status_code == 200 else 0

    cases: dict[str, dict[str, Any]] = {}
    cases["bare"] = {"url": f"{bare}/", "headers": {}}
    # A visitor who is not signed in (the page a shared link opens; one rendering is shared
    # for DESVIRT_PUBLIC_PAGE_SECONDS), and an attendee signed in, who sees the 200 names.
    cases["meetup_page_visitor"] = {
        "url": f"{app}{seeded.meetup_path}",
        "headers": {"Accept": "text/html"},
        "check": {"status": visitor_page.status_code, "bytes": len(visitor_page.content)},
    }
    cases["meetup_page_attendee"] = {
        "url": f"{app}{seeded.meetup_path}",
        "headers": page_headers,
        "check": {"status": page.status_code, "bytes": len(page.content),
                  "attendee_mentions": attendees_shown},
    }
    # The same page rendered for every view: a query string keeps it from being kept
    # (desvirt.signed_in_lane), as on SQLite or with DESVIRT_SIGNED_IN_PAGE_SECONDS=0.
    cases["meetup_page_attendee_rendered"] = {
        "url": f"{app}{seeded.meetup_path}?view=rendered",
        "headers": page_headers,
        "check": {"status": page.status_code, "bytes": len(page.content),
                  "attendee_mentions": attendees_shown},
    }
    # The least a signed-in request does (session and viewer, two queries, JSON): the floor
    # under any page that is built for one viewer.
    cases["signed_in_floor"] = {
        "url": f"{app}/api/v1/me",
        "headers": {"Cookie": cookie},
        "check": {"status": me.status_code},
    }
    if feed.status_code == 200:
        cases["feed_200"] = {
            "url": f"{app}{seeded.feed_path}",
            "headers": {},
            "check": {"status": 200, "bytes": len(feed.content), "events": feed_events},
        }
        if etag:
            cases["feed_304"] = {
                "url": f"{app}{seeded.feed_path}",
                "headers": {"If-None-Match": etag},
            }
    # The ceiling again, after the reads and before the writes (which leave PostgreSQL busy
    # flushing for a while): the machine's speed drifts during a run (the bare endpoint has
    # given 17,000 and 24,000 req/s minutes apart), so ratios are to the mean of both.
    cases["bare_again"] = dict(cases["bare"])
    # The kept attendee page while others answer at a steady rate: to other meetups (their
    # pages are forgotten, not this one), and to this very meetup (its pages are forgotten
    # on every answer, so its viewers find their page kept less often).
    meetup_rsvp_path = f"/api/v1/meetups/{seeded.meetup_path.rsplit('/', 1)[1]}/rsvp"
    for rate in WRITE_RATES:
        for where, paths in (("elsewhere", seeded.rsvp_paths), ("here", [meetup_rsvp_path])):
            cases[f"meetup_page_attendee_{rate}_writes_per_s_{where}"] = {
                **cases["meetup_page_attendee"],
                "writes": {"rate": rate, "url": app, "paths": paths,
                           "tokens": seeded.rsvp_tokens},
            }
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(seeded.rsvp_paths) + "\n")
    tokens_file = workdir / "tokens.txt"
    tokens_file.write_text("\n".join(seeded.rsvp_tokens) + "\n")
    bodies_file = workdir / "bodies.txt"
    bodies_file.write_text(
        "\n".join(json.dumps({"response": r}) for r in ("yes", "maybe", "no", "yes")) + "\n"
    )
    cases["rsvp_write"] = {
        "url": f"{app}{seeded.rsvp_paths[0]}",
        "method": "POST",
        "headers": {},
        "files": {"BENCH_PATHS": paths_file, "BENCH_TOKENS": tokens_file,
                  "BENCH_BODIES": bodies_file},
    }
    results: dict[str, Any] = {"cases": {}, "unavailable": {}}
    if feed.status_code != 200:
        results["unavailable"]["feed"] = f"GET feed answered {feed.status_code}"
    for name, case in cases.items():
        print(f"measuring {name} ...", flush=True)
        sequential = _sequential(case, args.sequential)
        with _writing(case.get("writes")) as written:
            loaded = _wrk(case, args.duration, args.connections)
        results["cases"][name] = {**loaded, "sequential": sequential, "check": case.get("check")}
        if case.get("writes"):
            results["cases"][name]["writes_done"] = written["done"]
            results["cases"][name]["write_errors"] = written["errors"]
    ceiling = (results["cases"]["bare"]["rps"] + results["cases"]["bare_again"]["rps"]) / 2
    for measured in results["cases"].values():
        measured["ratio_to_bare"] = round(measured["rps"] / ceiling, 3) if ceiling else None
    return results


@contextlib.contextmanager
def _writing(writes: dict[str, Any] | None) -> Iterator[dict[str, int]]:
    """Meanwhile, RSVP writes at `rate` per second from a thread of this process."""
    written = {"done": 0, "errors": 0}
    if not writes:
        yield written
        return
    stop = threading.Event()

    def write() -> None:
        interval = 1 / writes["rate"]
        next_at = time.monotonic()
        with httpx.Client(base_url=writes["url"], timeout=10) as client:
            for index in itertools.count():
                next_at += interval
                if stop.wait(max(0.0, next_at - time.monotonic())):
                    return
                token = writes["tokens"][index % len(writes["tokens"])]
                response = client.post(
                    writes["paths"][index % len(writes["paths"])],
                    # Each person alternates, so every write changes an answer.
                    json={"response": ("yes", "no")[index // len(writes["tokens"]) % 2]},
                    headers={"Authorization": f"Bearer {token}"},
                )
                written["done"] += 1
                written["errors"] += response.status_code >= 400

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join(15)


def _sequential(case: dict[str, Any], count: int) -> dict[str, float]:
    """One request at a time: what a single visitor waits (ms), server otherwise idle."""
    method = case.get("method", "GET")
    timings = []
    statuses: dict[int, int] = {}
    tokens = _lines(case, "BENCH_TOKENS")
    paths = _lines(case, "BENCH_PATHS")
    with httpx.Client(timeout=30) as client:
        for index in range(count + 5):
            headers = dict(case["headers"])
            url = case["url"]
            body = None
            if tokens:
                headers["Authorization"] = f"Bearer {tokens[index % len(tokens)]}"
            if paths:
                url = url.split("/api/", 1)[0] + paths[index % len(paths)]
            if method == "POST":
                body = {"response": ("yes", "no")[index % 2]}
            started = time.perf_counter()
            response = client.request(method, url, headers=headers, json=body)
            elapsed = (time.perf_counter() - started) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if index >= 5:  # the first few warm caches and connections
                timings.append(elapsed)
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p90_ms": round(timings[int(len(timings) * 0.9) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "statuses": statuses,
    }


def _lines(case: dict[str, Any], key: str) -> list[str]:
    path = case.get("files", {}).get(key)
    return path.read_text().split() if path else []


def _wrk(case: dict[str, Any], duration: int, connections: int) -> dict[str, Any]:
    env = {**os.environ, "BENCH_METHOD": case.get("method", "GET")}
    for index, (header, value) in enumerate(case["headers"].items(), start=1):
        env[f"BENCH_HEADER_{index}"] = f"{header}: {value}"
    for key, path in case.get("files", {}).items():
        env[key] = str(path)
    command = [
        "timeout", str(duration + 30), "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "--timeout", "10s", "-s", str(ROOT / "bench" / "report.lua"), case["url"],
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    errors = sum(v for k, v in summary.items() if k.startswith("errors_"))
    seconds = summary["duration_us"] / 1e6
    return {
        "requests": summary["requests"],
        "rps": round(summary["requests"] / seconds, 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "max_ms": round(summary["max_us"] / 1000, 2),
        "errors": errors,
        "error_detail": {k: v for k, v in summary.items() if k.startswith("errors_") and v},
    }


def _markdown(results: dict[str, Any], db: str) -> str:
    lines = [
        f"| case ({db} database) | req/s | ratio to bare | p50 ms | p99 ms | errors | "
        "one at a time p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results["cases"].items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['ratio_to_bare']:.2f} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['errors']} | {r['sequential']['p50_ms']} |"
        )
    for name, why in results["unavailable"].items():
        lines.append(f"| {name} | not measured: {why} | | | | | |")
    return "\n".join(lines)


def _group_rss_mb(group: int) -> dict[str, float]:
    """Resident memory of every process of the app's process group (granian and workers)."""
    sizes = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            if os.getpgid(int(status.parent.name)) != group:
                continue
            text = status.read_text()
            name = re.search(r"Name:\s*(\S+)", text)
            rss = re.search(r"VmRSS:\s*(\d+)", text)
            if name and rss:
                sizes[f"{name.group(1)}-{status.parent.name}"] = round(int(rss.group(1)) / 1024, 1)
    return sizes


def _machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = match.group(1) if match else ""
    memory = ""
    with contextlib.suppress(OSError):
        match = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        memory = f"{int(match.group(1)) / 1024 / 1024:.0f} GiB" if match else ""
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "load_average_before": os.getloadavg(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres_client": postgres,
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(
            "\n"
        )[0],
    }


def _environment(dsn: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESVIRT_", "PROMETHEUS_"))}
    env.update(
        DESVIRT_DATABASE_URL=dsn,
        DESVIRT_SECRET_KEY=SECRET,
        DESVIRT_BASE_URL=f"http://127.0.0.1:{APP_PORT}",
        DESVIRT_LOG_FORMAT="json",
        DESVIRT_LOG_LEVEL="INFO",
        DESVIRT_SIGNUPS_PER_IP_PER_HOUR="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def _timeout(command: list[str]) -> list[str]:
    return ["timeout", "--kill-after=10", str(HARD_LIMIT), *command]


def _desvirt(*arguments: str) -> list[str]:
    return _timeout([sys.executable, "-m", "desvirt.cli", *arguments])


def _start(
    command: list[str], env: dict[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in 60 s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


async def _recreate_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _analyze(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        # VACUUM too: after a million fresh rows autovacuum would otherwise start during the
        # measurements and take a core of this machine.
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main())
