"""The query counter itself: a page's cost must be measurable before it can be bounded."""

from __future__ import annotations

import httpx

from tests.conftest import QueryLog, SignUp


async def test_settings_page_costs_the_same_queries_with_few_or_many_tokens(
    client: httpx.AsyncClient, sign_up: SignUp, queries: QueryLog
) -> None:
    await sign_up(client, "ana")
    await client.post("/api/v1/auth/tokens", json={"name": "one"})
    queries.clear()
    assert (await client.get("/settings")).status_code == 200
    with_one = queries.count
    assert with_one > 0
    for index in range(15):
        await client.post("/api/v1/auth/tokens", json={"name": f"token {index}"})
    queries.clear()
    assert (await client.get("/settings")).status_code == 200
    assert queries.count == with_one
