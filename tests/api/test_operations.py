"""What an operator sees of a running instance: request ids, access logs, /metrics, proxies."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from desvirt.app import create_app
from desvirt.settings import Settings
from tests.conftest import Backend, open_client

Client = httpx.AsyncClient


async def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_of(samples: dict[Any, float], route: str, status: str) -> float:
    key = ("desvirt_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


async def test_every_answer_carries_a_request_id(client: Client) -> None:
    health = await client.get("/healthz")
    missing = await client.get("/no/such/page")
    assert len(health.headers["x-request-id"]) == 32
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] != health.headers["x-request-id"]


async def test_a_request_id_from_the_proxy_is_kept_and_a_garbled_one_replaced(
    client: Client,
) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "caddy-7f3a"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\tinjected"})
    assert kept.headers["x-request-id"] == "caddy-7f3a"
    assert replaced.headers["x-request-id"] != "bad id\tinjected"


async def test_access_log_names_request_id_route_and_status(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="desvirt.access"):
        response = await client.get("/login", headers={"X-Request-ID": "trace-me"})
    lines = [r for r in caplog.records if r.name == "desvirt.access"]
    assert len(lines) == 1
    line: Any = lines[0]
    assert line.request_id == "trace-me"
    assert (line.method, line.route, line.status) == ("GET", "/login", response.status_code)
    assert line.duration_ms >= 0


async def test_feed_tokens_never_reach_the_access_log(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="desvirt.access"):
        await client.get("/cal/averysecretfeedtoken.ics")
    assert "averysecretfeedtoken" not in caplog.text


async def test_metrics_count_requests_by_route_template_and_status(client: Client) -> None:
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
    for index in range(2):
        assert (await client.get(f"/no/such/page/{index}")).status_code == 404
    after = await scrape(client)
    assert requests_of(after, "/healthz", "200") - requests_of(before, "/healthz", "200") == 3
    assert requests_of(after, "unmatched", "404") - requests_of(before, "unmatched", "404") == 2
    # Unknown paths share one label, so a scanner cannot blow up the number of series.
    assert not any("/no/such/page" in str(key) for key in after)
    labels = (("method", "GET"), ("route", "/healthz"))
    count = ("desvirt_http_request_duration_seconds_count", labels)
    assert after[count] - before.get(count, 0) == 3


async def test_metrics_show_the_outbox_depth(client: Client) -> None:
    samples = await scrape(client)
    assert samples[("desvirt_outbox_depth", ())] >= 0


async def test_metrics_need_no_session_and_set_no_cookie(client: Client) -> None:
    response = await client.get("/metrics")
    assert "set-cookie" not in response.headers


async def test_login_limit_counts_the_client_behind_a_trusted_proxy(
    settings: Settings, db: Backend
) -> None:
    # The test client connects from 127.0.0.1, standing in for Caddy on the same host.
    proxied = replace(
        settings,
        login_failures_allowed=3,
        trusted_proxies=("127.0.0.1/32",),
    )
    async with open_client(create_app(proxied, engine=db.engine)) as proxy:

        async def fail_from(address: str, email: str) -> int:
            response = await proxy.post(
                "/api/v1/auth/login",
                json={"email": email, "password": "wrong password!"},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        assert [await fail_from("203.0.113.9", f"p{i}@example.org") for i in range(3)] == [401] * 3
        assert await fail_from("203.0.113.9", "p9@example.org") == 429
        # Another client behind the same proxy is a different address, not limited.
        assert await fail_from("198.51.100.4", "q@example.org") == 401
        # A client cannot dodge the limit by adding its own X-Forwarded-For entry.
        assert await fail_from("1.2.3.4, 203.0.113.9", "r@example.org") == 429
