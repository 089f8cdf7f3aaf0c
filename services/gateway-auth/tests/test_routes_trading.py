"""``/v1/accounts``, ``/v1/orders``, ``/v1/fills`` through the gateway with the REAL order-router
and market-data (each on its own schema); risk-monitor is a stand-in answering ``check``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import order_router_runtime, trading_market_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


@pytest.fixture
async def trading_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)

    async def approve(msg: Msg) -> None:
        await msg.respond(json.dumps({"data": {"approved": True}}).encode())

    risk = await nc.subscribe(subjects.request("risk-monitor", "check"), cb=approve)
    api = await make_api()
    async with (
        trading_market_runtime(pg_server, database_url, nats_url, nats_prefix),
        order_router_runtime(pg_server, database_url, nats_url, nats_prefix, risk_check_timeout_s=2),
    ):
        yield api
    await risk.unsubscribe()


def fields(response: Any) -> list[tuple[str, str | None]]:
    return [(f["field"], f.get("rule")) for f in response.json()["details"].get("fields", [])]


async def test_account_order_cancel_and_refusals_through_the_gateway(trading_api: Api) -> None:
    api = trading_api
    _, session = await api.user()
    made = await api.http.post("/v1/accounts", headers=session, json={"name": "paper"})
    assert made.status_code == 201, made.text
    account_id = made.json()["account_id"]
    assert made.json()["balances"] == [{"asset": "USDT", "free": "10000", "locked": "0", "total": "10000"}]

    order = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
             "quantity": "0.01", "price": "1000"}  # fmt: skip
    placed = await api.http.post("/v1/orders", headers={**session, "Idempotency-Key": "o-1"}, json=order)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "new"
    again = await api.http.post("/v1/orders", headers={**session, "Idempotency-Key": "o-1"}, json=order)
    assert again.json()["order_id"] == placed.json()["order_id"]
    order_id = placed.json()["order_id"]

    balances = (await api.http.get(f"/v1/accounts/{account_id}/balances", headers=session)).json()
    assert balances["balances"][0]["locked"] == "10.01"  # 0.01 × 1000 × (1 + 0.1 %)
    listed = (await api.http.get("/v1/orders", headers=session, params={"open_only": True})).json()
    assert [o["order_id"] for o in listed["items"]] == [order_id]

    off_tick = await api.http.post("/v1/orders", headers=session, json={**order, "price": "1000.005"})
    assert off_tick.status_code == 422 and ("body.price", "off_tick") in fields(off_tick), off_tick.text
    unknown = await api.http.post("/v1/orders", headers=session, json={**order, "leverage": 5})
    assert unknown.status_code == 422 and "leverage" in unknown.text
    not_a_number = await api.http.post("/v1/orders", headers=session, json={**order, "quantity": "NaN"})
    assert not_a_number.status_code == 422

    canceled = await api.http.delete(f"/v1/orders/{order_id}", headers=session)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled", canceled.text
    assert (await api.http.delete(f"/v1/orders/{order_id}", headers=session)).status_code == 409
    detail = (await api.http.get(f"/v1/orders/{order_id}", headers=session)).json()
    assert detail["order"]["status"] == "canceled" and detail["fills"] == []
    stats = (await api.http.get("/v1/orders/stats", headers=session)).json()
    assert stats["by_status"] == {"canceled": 1}
    assert (await api.http.get("/v1/fills", headers=session)).json()["items"] == []
