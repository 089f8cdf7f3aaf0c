"""NATS's max_payload at the gateway: an oversize request is a 413 problem, never a 500; the option
batches the contract allows (10,000 items, MAX_BATCH) go through to analytics and back."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
import pytest_asyncio
from backends import analytics_runtime
from gateway_testkit import Api, build_api, make_settings, migrated
from nats.aio.client import Client as NatsClient

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import MAX_BATCH, Greeks, GreeksReply, GreeksRequest
from tradeloom.shared.rpc import Operation, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SMALL = 16 * 1024
GREEKS = "/v1/analytics/options/greeks"
IV = "/v1/analytics/options/implied-volatility"


def greeks_items(count: int) -> list[dict[str, Any]]:
    return [
        {"type": "call" if i % 2 else "put", "spot": 100.0, "strike": 50.0 + (i % 100), "rate": 0.01,
         "expiry_years": 0.25 + (i % 7) / 10, "volatility": 0.2 + (i % 5) / 100}
        for i in range(count)
    ]  # fmt: skip


async def many_greeks(_: CallerContext, body: GreeksRequest) -> GreeksReply:
    """Stands in for analytics: 100 results per item asked, so a small request has a big reply."""
    one = Greeks(price=1.0, delta=0.5, gamma=0.01, vega=0.2, theta=-0.1, theta_day=-0.0003, rho=0.05)
    return GreeksReply(model=body.model, items=[one] * (100 * len(body.items)))


@pytest_asyncio.fixture
async def small_nats_api(database_url: str, db_schema: str, nats_prefix: str) -> AsyncIterator[Api]:
    """A gateway whose NATS server allows 16 KiB messages (the platform allows 8 MiB)."""
    await migrated(database_url, db_schema)
    with NatsServer(max_payload=SMALL) as server:
        nc = await nats.connect(server.url, **server.client_options())
        api = build_api(make_settings(database_url, server.url, db_schema, nats_prefix), nc)
        service = await serve(
            nc,
            service="analytics",
            version="0.0.0",
            subjects=Subjects(nats_prefix),
            operations=[Operation("options_greeks", GreeksRequest, GreeksReply, many_greeks)],
        )
        try:
            yield api
        finally:
            await service.stop()
            await api.http.aclose()
            await api.engine.dispose()
            await nc.close()


async def test_a_request_over_nats_max_payload_is_a_413_problem(small_nats_api: Api) -> None:
    _, session = await small_nats_api.user()
    body = {"items": greeks_items(200)}  # ~30 kB: under the HTTP body limit, over NATS's 16 KiB
    response = await small_nats_api.http.post(GREEKS, headers=session, json=body)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert str(SMALL) in problem["detail"] and "bytes" in problem["detail"]
    assert problem["details"]["max_payload_bytes"] == SMALL
    assert problem["details"]["size_bytes"] > SMALL
    small = await small_nats_api.http.post(GREEKS, headers=session, json={"items": greeks_items(1)})
    assert small.status_code == 200, small.text  # nothing was sent: the connection is fine
    assert len(small.json()["items"]) == 100


async def test_a_reply_over_nats_max_payload_is_a_413_problem_at_once(small_nats_api: Api) -> None:
    _, session = await small_nats_api.user()
    response = await small_nats_api.http.post(GREEKS, headers=session, json={"items": greeks_items(5)})
    assert response.status_code == 413, response.text  # not a 504 after the deadline
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "reply_too_large"
    assert "fewer items" in problem["detail"] and str(SMALL) in problem["detail"]
    assert problem["details"]["max_payload_bytes"] == SMALL


async def test_ten_thousand_item_option_batches_answer(
    api: Api, nc: NatsClient, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str
) -> None:
    """The largest batches the contract allows: ~1.5 MB requests, ~2-2.6 MB replies (over 1 MiB)."""
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    async with analytics_runtime(pg_server, database_url, nats_url, nats_prefix):
        _, session = await api.user()
        items = greeks_items(MAX_BATCH)
        greeks = await api.http.post(GREEKS, headers=session, json={"items": items})
        assert greeks.status_code == 200, greeks.text[:500]
        assert len(greeks.content) > 1024 * 1024
        priced = greeks.json()["items"]
        assert len(priced) == MAX_BATCH
        quotes = [
            {**{k: v for k, v in item.items() if k != "volatility"}, "price": reply["price"]}
            for item, reply in zip(items, priced, strict=True)
            if reply["price"] > 1e-6
        ]
        assert len(quotes) > MAX_BATCH // 2
        quotes = (quotes * math.ceil(MAX_BATCH / len(quotes)))[:MAX_BATCH]
        iv = await api.http.post(IV, headers=session, json={"items": quotes})
        assert iv.status_code == 200, iv.text[:500]
        solved = iv.json()["items"]
        assert len(solved) == MAX_BATCH
        assert sum(item["implied_volatility"] is not None for item in solved) > MAX_BATCH * 0.9
