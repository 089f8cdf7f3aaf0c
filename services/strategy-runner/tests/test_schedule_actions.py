"""The ``market_import`` and ``report`` schedule actions on the real stack (one start): real
market-data importing with the real ccxt from the local Binance stand-in (market-data's own test
helper), real order-router and analytics, strategy-runner's scheduler firing as the owner."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bots_harness import Market, approve_risk, eventually, service_runtime
from nats.aio.client import Client
from sr_caller import Caller, fields

from tradeloom.analytics import app as an_app
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.market_data import app as md_app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.order_router import app as or_app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings

sys.path.insert(0, str(Path(__file__).parents[2] / "market-data" / "tests"))
from standin_binance import ScriptTrade, StandinBinance

MINUTE_MS = 60_000
ADMIN = CallerContext(user_id="alice", roles=frozenset({"admin"}))
ALICE = CallerContext(user_id="alice")


def recent_script() -> tuple[list[ScriptTrade], int]:
    """Two trades a minute over the 10 whole minutes that ended 5 minutes ago; the first minute."""
    now_ms = time.time_ns() // 10**6
    first = now_ms - now_ms % MINUTE_MS - 15 * MINUTE_MS
    trades = [
        ScriptTrade(500 + i, first + i * 30_000, Decimal(40_000 + 10 * i), Decimal("0.25"), i % 2 == 0)
        for i in range(20)
    ]
    return trades, first


@dataclass
class Stack:
    sr: Caller
    orders: Caller
    client: ServiceClient
    market: Market
    first_minute_ms: int


@pytest.fixture
async def stack(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any
) -> AsyncIterator[Stack]:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    risk = await approve_risk(nc, subjects)
    trades, first = recent_script()
    venue = StandinBinance("BTCUSDT", "BTC", "USDT", trades, segments=[(0, len(trades))])
    await venue.start()
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": venue.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip  # ETH/USDT is not listed: markets load, nothing is streamed
    md = {"sim_symbols": ["BTC/USDT"], "sim_trades_per_s": 0, "candle_tolerance_s": 0}
    sr_settings = StrategyRunnerSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=sr_schema,
        environment="test", health_port=free_port(), schedule_tick_s=0.2, schedule_import_wait_s=60,
        analytics_timeout_s=15, market_data_timeout_s=10,
    )  # fmt: skip
    args = (pg_server, database_url, nats_url, nats_prefix)
    try:
        async with (
            service_runtime(md_app, MarketDataSettings, *args, **md, live_sources=[live], import_poll_s=0.2),
            service_runtime(or_app, OrderRouterSettings, *args, risk_check_timeout_s=2),
            service_runtime(an_app, AnalyticsSettings, *args, roll_interval_s=0.2),
        ):
            runtime = app.build(sr_settings)
            await runtime.start()
            client = ServiceClient(nc, subjects)
            try:
                yield Stack(
                    Caller(client, "alice"), Caller(client, "alice", "order-router"), client,
                    Market.recent(nc, subjects), first,
                )  # fmt: skip
            finally:
                await runtime.stop()
    finally:
        await venue.stop()
        await risk.unsubscribe()


async def one_run(stack: Stack, body: dict[str, Any], caller: CallerContext) -> dict[str, Any]:
    """Create the schedule (every second), wait for its first finished run, disable it; that run."""
    made = await stack.client.call_raw(
        "strategy-runner", "schedules_create", body, caller=caller, timeout_s=10
    )
    ref = {"schedule_id": made["schedule_id"]}
    finished: list[dict[str, Any]] = []

    async def ran() -> bool:
        runs = (await stack.sr("schedules_runs", ref))["items"]
        finished[:] = [r for r in runs if r["outcome"] != "running"]
        return bool(finished)

    await eventually(ran, timeout_s=120)
    await stack.sr("schedules_enable", {**ref, "enabled": False})
    return finished[-1]


async def test_import_and_report_actions_on_the_real_stack(stack: Stack) -> None:
    # validation and ownership at creation
    base: dict[str, Any] = {"name": "nightly", "cron": "0 2 * * *"}
    report = {"kind": "report", "report": {"scope": "account", "id": "no-such-account", "days": 7}}
    unknown = await stack.sr.error("schedules_create", {**base, "action": report})
    assert unknown.code == "not_found" and fields(unknown) == ["action.report.id"]
    bot_report = {"kind": "report", "report": {"scope": "bot", "id": "nope", "capital": "1000"}}
    assert fields(await stack.sr.error("schedules_create", {**base, "action": bot_report})) == [
        "action.report.id"
    ]
    short = {
        "kind": "market_import",
        "market_import": {"venue": "binance", "symbol": "BTC/USDT", "lookback_s": 1},
    }
    too_short = await stack.sr.error("schedules_create", {**base, "action": short})
    assert too_short.code == "validation_error" and fields(too_short) == ["action.market_import.lookback_s"]
    imports = {
        "kind": "market_import",
        "market_import": {"venue": "binance", "symbol": "BTC/USDT", "lookback_s": 3600},
    }
    assert (await stack.sr.error("schedules_create", {**base, "action": imports})).code == "forbidden"

    # import: the job is queued as the admin owner, followed to its end, its id kept with the run
    run = await one_run(stack, {"name": "refresh", "interval_s": 1, "action": imports}, ADMIN)
    assert run["outcome"] == "succeeded" and run["import_id"], run
    jobs = await stack.client.call_raw(
        "market-data", "imports_list", {"import_id": run["import_id"]}, caller=ADMIN, timeout_s=10
    )
    job = jobs["imports"][0]
    assert (job["status"], job["stored"], job["created_by"]) == ("done", 10, "alice")
    assert job["to_ns"] - job["from_ns"] == 3600 * 10**9 and "10 candle(s) stored" in run["detail"]
    first_ns = stack.first_minute_ms * 10**6
    window = {"from_ns": first_ns, "to_ns": first_ns + 10 * 60 * 10**9}
    asked = {"venue": "binance", "symbol": "BTC/USDT", "timeframe": "1m", **window}
    candles = await stack.client.call_raw("market-data", "candles", asked, caller=ADMIN, timeout_s=10)
    assert len(candles["candles"]) == 10

    # report: a real fill on a paper account, analytics' metrics and equity kept with the run
    account = (await stack.orders("accounts_create", {"name": "reported"}))["account_id"]
    order = {"account_id": account, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1"}
    await stack.market.trade_now(100.0)  # order-router prices a market order on the last trade

    async def priced() -> bool:
        try:
            await stack.orders("orders_submit", order | {"client_order_id": "report-buy"})
        except RemoteError as error:
            assert "no trade seen yet" in str(error), error
            return False
        return True

    await eventually(priced)
    await stack.market.trade_now(101.0)  # the paper exchange fills on a trade after acceptance
    scope = {"scope": "account", "id": account}

    async def traded() -> bool:
        curve = await stack.client.call_raw("analytics", "equity", scope, caller=ALICE, timeout_s=10)
        return sum(p["trades"] for p in curve["points"]) == 1

    await eventually(traded)
    run = await one_run(
        stack,
        {"name": "weekly", "interval_s": 1, "action": {"kind": "report", "report": {**scope, "days": 7}}},
        ADMIN,
    )
    assert run["outcome"] == "succeeded", run
    stored = run["report"]
    assert (stored["scope"], stored["id"], stored["equity"]["trades"], stored["equity"]["days"]) == (
        "account",
        account,
        1,
        1,
    )
    direct = await stack.client.call_raw(
        "analytics",
        "metrics",
        {**scope, "start": stored["start"], "end": stored["end"]},
        caller=ALICE,
        timeout_s=10,
    )
    assert stored["capital"] == direct["capital"] and stored["metrics"].keys() == direct["metrics"].keys()
    assert (
        await stack.sr.as_user("mallory").error("schedules_runs", {"schedule_id": "x"})
    ).code == "not_found"
