"""``/v1/risk`` through the gateway with the REAL risk-monitor, order-router and market-data (each on
its own schema): limits refuse an order with the limit named, the emergency stop halts and resume
lifts it, another user's account is 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import order_router_runtime, risk_monitor_runtime, trading_market_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


@pytest.fixture
async def risk_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api()
    async with (
        trading_market_runtime(pg_server, database_url, nats_url, nats_prefix),
        risk_monitor_runtime(pg_server, database_url, nats_url, nats_prefix),
        order_router_runtime(pg_server, database_url, nats_url, nats_prefix, risk_check_timeout_s=2),
    ):
        yield api


async def test_limits_alerts_and_the_kill_switch_through_the_gateway(risk_api: Api) -> None:
    api = risk_api
    _, session = await api.user()
    account_id = (await api.http.post("/v1/accounts", headers=session, json={"name": "risky"})).json()[
        "account_id"
    ]
    limits = f"/v1/risk/accounts/{account_id}/limits"
    empty = await api.http.get(limits, headers=session)
    assert empty.status_code == 200 and empty.json()["updated_at"] is None, empty.text
    put = await api.http.put(limits, headers=session, json={"max_order_notional": "5", "max_open_orders": 2})
    assert put.status_code == 200 and put.json()["max_order_notional"] == "5", put.text
    bad = await api.http.put(limits, headers=session, json={"day_boundary_tz": "Nowhere/Land"})
    assert bad.status_code == 422 and "day_boundary_tz" in bad.text
    huge = await api.http.put(limits, headers=session, json={"max_daily_loss": "-1"})
    assert huge.status_code == 422

    order = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
             "quantity": "0.01", "price": "1000"}  # fmt: skip
    refused = await api.http.post("/v1/orders", headers=session, json=order)
    assert refused.status_code == 201, refused.text
    assert refused.json()["status"] == "rejected"
    assert refused.json()["reject_reason"] == "risk_rejected: max_order_notional: 10 > 5"
    await api.http.put(limits, headers=session, json={"max_order_notional": "100"})
    placed = await api.http.post("/v1/orders", headers=session, json=order)
    assert placed.json()["status"] == "new", placed.text

    _, eve = await api.user()
    for method in ("GET", "PUT", "DELETE"):
        assert (await api.http.request(method, limits, headers=eve, json={})).status_code == 404
    assert (await api.http.get(f"/v1/risk/accounts/{account_id}/exposure", headers=eve)).status_code == 404
    equity_url = f"/v1/risk/accounts/{account_id}/equity"
    assert (await api.http.get(equity_url, headers=eve)).status_code == 404
    equity = await api.http.get(equity_url, headers=session)
    assert equity.status_code == 200 and equity.json()["equity"] == "10000", equity.text
    assert (
        await api.http.get(equity_url, headers=session, params={"valuation_asset": "us"})
    ).status_code == 422

    stop = await api.http.post("/v1/risk/emergency-stop", headers=session, json={"reason": "enough"})
    assert stop.status_code == 200 and stop.json()["halted"] is True, stop.text
    forbidden = await api.http.post("/v1/risk/emergency-stop", headers=session, json={"scope": "global"})
    assert forbidden.status_code == 403
    resumed = await api.http.post("/v1/risk/resume", headers=session, json={})
    assert resumed.status_code == 200 and resumed.json()["halted"] is False
    exposure = await api.http.get(f"/v1/risk/accounts/{account_id}/exposure", headers=session)
    assert exposure.status_code == 200 and exposure.json()["gross"] == "0", exposure.text
    positions = await api.http.get("/v1/risk/positions", headers=session, params={"account_id": account_id})
    assert positions.status_code == 200 and positions.json()["items"] == []
    alerts = await api.http.get("/v1/risk/alerts", headers=session)
    assert alerts.status_code == 200 and alerts.json()["items"] == []
    missing = await api.http.post("/v1/risk/alerts/ack", headers=session, json={"alert_id": "nope"})
    assert missing.status_code == 404
    assert (await api.http.delete(limits, headers=session)).status_code == 200
    history = await api.http.get(f"/v1/risk/accounts/{account_id}/eod-balances", headers=session)
    assert history.status_code == 200 and history.json()["items"] == [], history.text
    assert (
        await api.http.get(f"/v1/risk/accounts/{account_id}/eod-balances", headers=eve)
    ).status_code == 404
    flattens = await api.http.get(f"/v1/risk/accounts/{account_id}/flattens", headers=session)
    assert flattens.status_code == 200 and flattens.json()["items"] == [], flattens.text
    assert (await api.http.get(f"/v1/risk/accounts/{account_id}/flattens", headers=eve)).status_code == 404
    var_url = f"/v1/risk/accounts/{account_id}/var"
    var = await api.http.get(var_url, headers=session, params={"lookback": 20})  # no position: zeros
    assert var.status_code == 200 and var.json()["historical_99"]["var"] == "0", var.text
    assert (var.json()["bars"], var.json()["lookback"], var.json()["timeframe"]) == (0, 20, "1d")
    short = await api.http.get(var_url, headers=session, params={"lookback": 1})
    assert short.status_code == 422 and "lookback" in short.text
    assert (await api.http.get(var_url, headers=eve)).status_code == 404
    score = await api.http.get(f"/v1/risk/accounts/{account_id}/risk-score", headers=session)
    assert score.status_code == 200 and score.json()["score"] == 1, score.text
    bot_limits = f"/v1/risk/accounts/{account_id}/bots/b-1/limits"
    bot_put = await api.http.put(bot_limits, headers=session, json={"max_position_notional": "50"})
    assert bot_put.status_code == 200 and bot_put.json()["bot_id"] == "b-1", bot_put.text
    assert (await api.http.put(bot_limits, headers=session, json={"max_leverage": "2"})).status_code == 422
    assert (await api.http.get(bot_limits, headers=eve)).status_code == 404
    perp_url = f"/v1/risk/accounts/{account_id}/perp-settings"
    perp = await api.http.put(
        perp_url,
        headers=session,
        json={"symbol": "BTC/USDT:USDT", "leverage": "10", "margin_mode": "isolated"},
    )
    assert perp.status_code == 200 and perp.json()["maintenance_margin_rate"] == "0.005", perp.text
    over = await api.http.put(perp_url, headers=session, json={"symbol": "BTC/USDT:USDT", "leverage": "126"})
    assert over.status_code == 422 and "leverage" in over.text
    listed = await api.http.get(perp_url, headers=session)
    assert [(i["symbol"], i["leverage"]) for i in listed.json()["items"]] == [("BTC/USDT:USDT", "10")]
    assert (await api.http.get(perp_url, headers=eve)).status_code == 404
    changes = await api.http.get("/v1/risk/limit-changes", headers=session, params={"account_id": account_id})
    assert changes.status_code == 200, changes.text
    actions = [(c["action"], c["bot_id"]) for c in changes.json()["items"]]
    assert actions == [("put", "b-1"), ("delete", None), ("put", None), ("put", None)]
    assert (await api.http.get("/v1/risk/limit-changes", headers=eve)).json()["items"] == []
