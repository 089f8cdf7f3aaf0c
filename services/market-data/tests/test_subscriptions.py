"""Subscriptions through the API: an admin starts and stops the ingestion of a symbol on the
synthetic venue; it runs without a restart, survives one, is listed with its status, last trade
and lag; bad input names the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
USER = CallerContext(user_id="alice")
LIVE = {
    "exchange": "binance",
    "symbols": ["BTC/USDT"],
    "transport": "rest",
    "urls": {"api": {"public": "http://127.0.0.1:9"}},
}


async def refused(client: ServiceClient, op: str, body: dict[str, Any], caller: CallerContext) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await client.call_raw("market-data", op, body, caller=caller, timeout_s=10)
    return caught.value


def fields(error: RemoteError) -> list[str]:
    return [f["field"] for f in error.details.get("fields", [])]


async def test_admin_starts_lists_stops_and_a_restart_resumes(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = md_settings(
        md_schema,
        sim_symbols=["BTC/USDT"],
        sim_trades_per_s=20,
        subscriptions_sync_s=0.2,
        live_sources=[LIVE],  # a ccxt venue that never answers: its markets are unknown
    )
    client = ServiceClient(nc, subjects)

    async def listed(symbol: str) -> dict[str, Any]:
        reply = await client.call_raw("market-data", "subscriptions_list", {}, caller=USER, timeout_s=10)
        return next(s for s in reply["subscriptions"] if s["symbol"] == symbol)

    runtime = build(settings)
    await runtime.start()
    try:
        assert (
            await refused(client, "subscriptions_start", {"venue": "sim", "symbol": "SOL/USDT"}, USER)
        ).code == ("forbidden")
        bad_venue = await refused(
            client, "subscriptions_start", {"venue": "kraken", "symbol": "SOL/USDT"}, ADMIN
        )
        assert (bad_venue.code, fields(bad_venue)) == ("validation_error", ["venue"])
        bad_symbol = await refused(
            client, "subscriptions_start", {"venue": "sim", "symbol": "SOLUSDT"}, ADMIN
        )
        assert (bad_symbol.code, fields(bad_symbol)) == ("validation_error", ["symbol"])
        not_a_market = await refused(
            client, "subscriptions_start", {"venue": "binance", "symbol": "SOL/USDT"}, ADMIN
        )
        assert (not_a_market.code, fields(not_a_market)) == ("validation_error", ["symbol"])
        from_settings = await refused(
            client, "subscriptions_start", {"venue": "sim", "symbol": "btc-usdt"}, ADMIN
        )
        assert from_settings.code == "conflict"
        assert (
            await refused(client, "subscriptions_stop", {"venue": "sim", "symbol": "XRP/USDT"}, ADMIN)
        ).code == ("not_found")

        started = await client.call_raw(
            "market-data",
            "subscriptions_start",
            {"venue": "sim", "symbol": "sol_usdt"},
            caller=ADMIN,
            timeout_s=10,
        )
        assert (started["symbol"], started["source"], started["desired"], started["created_by"]) == (
            "SOL/USDT", "api", "running", "root",
        )  # fmt: skip

        async def ingesting() -> dict[str, Any] | None:
            row = await listed("SOL/USDT")
            return row if row["status"] == "running" and row["last_trade_ts_ns"] else None

        running = await eventually(ingesting, "SOL/USDT trades stored", timeout=60)
        assert running["lag_s"] is not None and running["lag_s"] >= 0 and running["last_price"]
        settings_row = await listed("BTC/USDT")
        assert (settings_row["source"], settings_row["status"]) == ("settings", "running")
        price = await client.call_raw("market-data", "latest_price", {"symbol": "SOL/USDT"}, timeout_s=10)
        assert price["price"]

        await client.call_raw(
            "market-data",
            "subscriptions_start",
            {"venue": "sim", "symbol": "ADA/USDT"},
            caller=ADMIN,
            timeout_s=10,
        )
        stopped = await client.call_raw(
            "market-data",
            "subscriptions_stop",
            {"venue": "sim", "symbol": "SOL/USDT"},
            caller=ADMIN,
            timeout_s=10,
        )
        assert stopped["desired"] == "stopped"
        await eventually(
            lambda: _status(listed, "SOL/USDT", "stopped"), "the SOL/USDT source stopped", timeout=60
        )
        await eventually(lambda: _traded(listed, "ADA/USDT"), "ADA/USDT traded", timeout=60)
        run = (await newest_trade_id(client, "ADA/USDT")).split("-")[0]  # <run start ms>-<n>
    finally:
        await runtime.stop()

    # persisted: a new process resumes ADA/USDT (still wanted) and leaves SOL/USDT stopped
    runtime = build(settings)
    await runtime.start()
    try:

        async def new_run() -> bool:
            return not (await newest_trade_id(client, "ADA/USDT")).startswith(f"{run}-")

        await eventually(new_run, "ADA/USDT simulated again after the restart", timeout=60)
        assert (await listed("ADA/USDT"))["status"] == "running"
        assert (await listed("SOL/USDT"))["status"] == "stopped"
    finally:
        await runtime.stop()


async def newest_trade_id(client: ServiceClient, symbol: str) -> str:
    reply = await client.call_raw("market-data", "trades", {"symbol": symbol, "limit": 1}, timeout_s=10)
    return str(reply["trades"][0]["trade_id"])


async def _status(listed: Callable[[str], Any], symbol: str, status: str) -> bool:
    return bool((await listed(symbol))["status"] == status)


async def _traded(listed: Callable[[str], Any], symbol: str) -> int | None:
    row = await listed(symbol)
    return row["last_trade_ts_ns"] if row["last_trade_ts_ns"] else None
