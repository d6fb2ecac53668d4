"""Markdown of the last `bench.run` results (bench/results/{small,large}.json), for README.md.

    python -m bench.report > /tmp/results.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"meetup_page_visitor": 1 / 3, "meetup_page_attendee": 1 / 3, "feed_304": 1 / 2}


def main() -> int:
    runs = {
        name: json.loads((RESULTS / f"{name}.json").read_text())
        for name in ("small", "large")
        if (RESULTS / f"{name}.json").exists()
    }
    if not runs:
        print("no results yet: run python -m bench.run first", file=sys.stderr)
        return 1
    print(throughput(runs))
    print()
    print(latency(runs))
    print()
    print(database(runs))
    return 0


def throughput(runs: dict[str, Any]) -> str:
    lines = [
        "| database | case | req/s | ratio to bare | target | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for db, run in runs.items():
        for case, r in run["cases"].items():
            target = TARGETS.get(case)
            mark = ""
            if target is not None:
                met = r["ratio_to_bare"] >= target
                mark = f"≥ {target:.2f} " + ("met" if met else "**missed**")
            lines.append(
                f"| {db} | {case} | {r['rps']:.0f} | {r['ratio_to_bare']:.3f} | {mark} | "
                f"{r['p50_ms']} | {r['p99_ms']} | {r['errors']} |"
            )
    return "\n".join(lines)


def latency(runs: dict[str, Any]) -> str:
    if "small" not in runs or "large" not in runs:
        return ""
    small, large = runs["small"]["cases"], runs["large"]["cases"]
    lines = [
        "| case, one request at a time | small p50 ms | large p50 ms | large / small | target |",
        "|---|---:|---:|---:|---|",
    ]
    for case in small:
        if case not in large or case.startswith("bare") or "_writes_per_s" in case:
            continue
        a, b = small[case]["sequential"]["p50_ms"], large[case]["sequential"]["p50_ms"]
        ratio = b / a if a else 0
        verdict = "≤ 1.5 " + ("met" if ratio <= 1.5 else "**missed**")
        lines.append(f"| {case} | {a} | {b} | {ratio:.2f} | {verdict} |")
    return "\n".join(lines)


def database(runs: dict[str, Any]) -> str:
    lines = []
    for db, run in runs.items():
        rows = run.get("database", {}).get("rows", {})
        seconds = run.get("database", {}).get("seconds")
        line = f"- {db}: " + ", ".join(f"{table} {count:,}" for table, count in rows.items())
        if seconds:
            line += f" (generated in {sum(seconds.values()):.0f} s)"
        memory = run.get("app_memory_mb")
        if memory:
            line += "; app processes' memory (RSS, MB): " + ", ".join(
                f"{value}" for value in memory.values()
            )
        load = run.get("load_average_after")
        if load:
            line += f"; load average after: {load[0]:.1f}"
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
