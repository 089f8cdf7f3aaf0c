"""Parity: bots replayed over recorded candles (real market-data, order-router's paper exchange,
sandbox-executor) make the same trades as backtest-engine's backtest of the same strategy on the
same candles, for a built-in, its builder graph (also with its SMAs from a Python user indicator
run in the sandbox) and the user's code of it; a failing code stops
its bot with a decision naming the error and line, and the others trade on. A user indicator run
by the same sandbox over the same stored candles equals the built-in's."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from bots_harness import MINUTE_NS, BotsEnv, Market, decisions, eventually
from sandbox_kit import real_sandbox
from test_code_bots import FAILING, SMA_CROSS, UID_BASE
from test_graph_strategies import sma_cross as sma_graph

from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.quant.simulator import ExitReason, TradeColumn
from tradeloom.shared.contracts.backtest import SubmitBacktest

# sma_cross 3/5 over these closes: a cross down at bar 13 (flat: nothing to do), the entry at 19
# and the exit at 24, filled on the next bars; flat at the end, so the trades are one round trip.
# (Few decided bars: the code bot runs the sandbox once per bar.)
PRICES = [100, 98, 96, 94, 92, 90, 93, 96, 99, 102, 105, 102, 99, 96, 93, 90, 87, 90, 93, 96, 99, 102, 99,
          96, 93, 90, 88]  # fmt: skip
PARAMS = {"fast": 3, "slow": 5}
FIRST_DECIDED = 18  # the bots start here; earlier bars are their warm-up history
USER_SMA = """import numpy as np


def compute(bars, params):
    n = int(params["n"])
    c = np.cumsum(np.insert(bars["close"], 0, 0.0))
    out = np.full(len(bars["close"]), np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return {"sma": out}
"""
TWO_SMAS = """import numpy as np


def sma(x, n):
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.full(len(x), np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def compute(bars, params):
    return {"quick": sma(bars["close"], int(params["fast"])), "calm": sma(bars["close"], int(params["slow"]))}
"""
FAILING_INDICATOR = "def compute(bars, params):\n    n = len(bars['close'])\n    return n / 0\n"


def backtest_trades(start_ns: int) -> list[tuple[str, int, Decimal]]:
    """(side, fill bar, price) of the backtest: backtest-engine's plan and simulator, filling at
    the next bar's open (every bar here has one price)."""
    prices = np.array(PRICES, dtype=np.float64)
    times = np.array([start_ns + i * MINUTE_NS for i in range(len(PRICES))], dtype=np.int64)
    request = SubmitBacktest.model_validate(
        {
            "strategy": "sma_cross", "params": PARAMS, "symbol": "BTC/USDT", "venue": "sim",
            "timeframe": "1m", "start": datetime.fromtimestamp(start_ns / 1e9, UTC).isoformat(),
            "end": datetime.fromtimestamp((start_ns + len(PRICES) * MINUTE_NS) / 1e9, UTC).isoformat(),
            "sizing": {"mode": "fixed_quantity", "value": "1"},
        }
    )  # fmt: skip
    plan = with_bars(plan_run(request), times, MINUTE_NS)
    outcome = run_backtest(plan, BarArrays(times, prices, prices, prices, prices, np.ones(len(PRICES))))
    trades: list[tuple[str, int, Decimal]] = []
    for row in outcome.trades:
        assert int(row[TradeColumn.EXIT_REASON]) == ExitReason.SIGNAL
        trades.append(
            ("buy", int(row[TradeColumn.ENTRY_INDEX]), Decimal(str(float(row[TradeColumn.ENTRY_PRICE]))))
        )
        trades.append(
            ("sell", int(row[TradeColumn.EXIT_INDEX]), Decimal(str(float(row[TradeColumn.EXIT_PRICE]))))
        )
    return trades


@pytest.fixture
async def parity_env(
    bots_env: BotsEnv, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str
) -> AsyncIterator[BotsEnv]:
    """The bots' world plus a real sandbox-executor (quotas wide enough for a replay)."""
    async with real_sandbox(
        pg_server, database_url, nats_url, nats_prefix, bots_env.sr.client, UID_BASE, quota_concurrent=4
    ):
        yield bots_env


def python_sma_graph(indicator_id: str) -> dict[str, Any]:
    """sma_cross as a graph whose two SMAs come from the user's Python indicator ``TWO_SMAS``."""
    ref = {"indicator_id": indicator_id, "version": 1}
    quick, calm = ({"source": "ind", "source_port": port} for port in ("quick", "calm"))
    return {
        "nodes": [
            {"id": "ind", "type": "user_indicator", "indicator": ref},
            *({"id": i, "type": t} for i, t in (("up", "cross.above"), ("down", "cross.below"))),
            *({"id": i, "type": t} for i, t in (("enter", "sink.enter_long"), ("exit", "sink.exit_long"))),
        ],
        "edges": [
            {**quick, "target": "up", "target_port": "a"}, {**calm, "target": "up", "target_port": "b"},
            {**quick, "target": "down", "target_port": "a"}, {**calm, "target": "down", "target_port": "b"},
            {"source": "up", "target": "enter", "target_port": "when"},
            {"source": "down", "target": "exit", "target_port": "when"},
        ],
    }  # fmt: skip


async def new_bots(env: BotsEnv) -> dict[str, str]:
    """Stopped bots on one paper account: the built-in, its builder graph, the same graph with the
    SMAs from a Python user indicator, the user's code of it, and a user code that always fails:
    name → bot id."""
    account = await env.orders("accounts_create", {"name": "parity"})
    graph = sma_graph(PARAMS["fast"], PARAMS["slow"])
    graph["nodes"] = [node for node in graph["nodes"] if node["type"] != "sink.stop_loss"]
    two = await env.sr("user_indicators_create", {"name": "two smas", "code": TWO_SMAS, "params": PARAMS})
    kinds = {
        "builtin": {"template": "sma_cross", "params": PARAMS},
        "graph": {"kind": "graph", "graph": graph},
        "pygraph": {"kind": "graph", "graph": python_sma_graph(two["indicator_id"])},
        "code": {"kind": "code", "code": SMA_CROSS, "params": PARAMS},
        "failing": {"kind": "code", "code": FAILING},
    }
    bots = {}
    for name, content in kinds.items():
        strategy = await env.sr("strategies_create", {"name": name, **content})
        bot = await env.sr(
            "bots_create",
            {
                "name": name, "strategy_id": strategy["strategy_id"], "strategy_version": 1,
                "account_id": account["account_id"], "symbol": "BTC/USDT", "timeframe": "1m",
                "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "5",
            },
        )  # fmt: skip
        bots[name] = bot["bot_id"]
    return bots


async def test_replayed_bots_of_every_kind_trade_like_the_backtest(parity_env: BotsEnv) -> None:
    env = parity_env
    now = time.time_ns()
    # bars a few minutes ahead: the paper exchange fills an order on trades stamped after it
    market = Market(env.market.nc, env.market.subjects, now - now % MINUTE_NS + 5 * MINUTE_NS)
    bots = await new_bots(env)
    trading = [bots[name] for name in ("builtin", "graph", "pygraph", "code")]
    for index in range(FIRST_DECIDED):
        await market.trade(index, PRICES[index])
    for bot_id in bots.values():
        await env.sr("bots_start", {"bot_id": bot_id})
    for index in range(FIRST_DECIDED, len(PRICES)):
        await market.trade(index, PRICES[index])  # closes bar index - 1: the bots decide it
        await replay_step(env, market, trading, index)
    expected = sorted(backtest_trades(market.start_ns))
    assert len(expected) == 2  # one round trip
    for bot_id in trading:
        trades = (await env.sr("bots_trades", {"bot_id": bot_id, "limit": 50}))["items"]
        replayed = sorted(
            (t["side"], (t["bar_ns"] - market.start_ns) // MINUTE_NS + 1, Decimal(t["price"])) for t in trades
        )
        assert replayed == expected, bot_id
    failing = await env.sr("bots_get", {"bot_id": bots["failing"]})
    assert failing["status"] == "error" and "ZeroDivisionError at line 3" in failing["status_reason"]
    logged = await decisions(env.sr, bots["failing"])
    assert [d["action"] for d in logged] == ["failed"] and "line 3" in logged[0]["reason"]
    await user_indicator_on_the_replayed_candles(env, market.bar_ns(len(PRICES) - 2))


async def user_indicator_on_the_replayed_candles(env: BotsEnv, last_ns: int) -> None:
    """The user's own SMA, run by the real sandbox over the stored candles, equals the built-in's;
    its error names the user's line (a 422, not a 5xx)."""
    query = {"symbol": "BTC/USDT", "venue": "sim", "timeframe": "1m", "to_ns": last_ns}
    builtin = await env.sr("indicators_compute", {**query, "indicator": "sma", "params": {"window": 3}})
    mine = await env.sr("user_indicators_create", {"name": "my sma", "code": USER_SMA, "params": {"n": 3}})
    computed = await env.sr("indicators_compute", {**query, "user_indicator_id": mine["indicator_id"]})
    assert computed["open_ns"] == builtin["open_ns"] and len(computed["open_ns"]) == len(PRICES) - 1
    assert computed["indicator"] == f"user:{mine['indicator_id']}" and computed["user_indicator_version"] == 1
    assert computed["outputs"]["sma"][:2] == [None, None]
    np.testing.assert_allclose(computed["outputs"]["sma"][2:], builtin["outputs"]["value"][2:])
    await env.sr(
        "user_indicators_versions_add", {"indicator_id": mine["indicator_id"], "code": FAILING_INDICATOR}
    )
    failed = await env.sr.error("indicators_compute", {**query, "user_indicator_id": mine["indicator_id"]})
    assert failed.code == "validation_error" and failed.details["line"] == 3, failed
    assert "line 3: compute raised ZeroDivisionError" in str(failed)


async def replay_step(env: BotsEnv, market: Market, trading: list[str], index: int) -> None:
    """Wait until the bots decided bar ``index - 1``; fill the orders they sent with a second
    trade in bar ``index`` at its price (its candle unchanged)."""
    closed = market.bar_ns(index - 1)

    async def decided() -> bool:
        for bot_id in trading:
            if ((await env.sr("bots_get", {"bot_id": bot_id}))["last_bar_ns"] or 0) < closed:
                return False
        return True

    await eventually(decided)
    ordering = [
        bot_id for bot_id in trading
        if any(d["client_order_id"] for d in await decisions(env.sr, bot_id) if d["bar_ns"] == closed)
    ]  # fmt: skip
    if not ordering:
        return

    async def accepted() -> bool:
        for bot_id in ordering:
            if not any(d["order_id"] for d in await decisions(env.sr, bot_id) if d["bar_ns"] == closed):
                return False
        return True

    await eventually(accepted)
    await market._trade(market.bar_ns(index) + 30_000_000_000, index, PRICES[index], "5")

    async def filled() -> bool:
        for bot_id in ordering:
            orders = (await env.sr("bots_orders", {"bot_id": bot_id, "limit": 50}))["items"]
            if not all(order["status"] == "filled" for order in orders):
                return False
        return True

    await eventually(filled)
