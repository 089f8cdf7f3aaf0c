"""Parity: a bot replayed over recorded candles (real market-data, order-router's paper exchange)
makes the same trades as backtest-engine's backtest of the same strategy on the same candles."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from bots_harness import MINUTE_NS, BotsEnv, Market, decisions, eventually

from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.quant.simulator import ExitReason, TradeColumn
from tradeloom.shared.contracts.backtest import SubmitBacktest

# sma_cross 3/5 over these closes: entries at bars 19 and 30, exits at 24 and 36 (and a cross
# down at 13 while flat); the bot is flat at the end, so every trade is a closed round trip.
PRICES = [100, 98, 96, 94, 92, 90, 93, 96, 99, 102, 105, 102, 99, 96, 93, 90, 87, 90, 93, 96, 99, 102, 99,
          96, 93, 90, 88, 86, 85, 88, 92, 96, 100, 104, 100, 96, 92, 88, 84, 82]  # fmt: skip
PARAMS = {"fast": 3, "slow": 5}
FIRST_DECIDED = 16  # the bot starts here; earlier bars are its warm-up history


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


async def test_a_replayed_bot_trades_like_the_backtest(bots_env: BotsEnv) -> None:
    env = bots_env
    now = time.time_ns()
    # bars a few minutes ahead: the paper exchange fills an order on trades stamped after it
    market = Market(env.market.nc, env.market.subjects, now - now % MINUTE_NS + 5 * MINUTE_NS)
    account = await env.orders("accounts_create", {"name": "parity"})
    strategy = await env.sr(
        "strategies_create", {"name": "parity", "template": "sma_cross", "params": PARAMS}
    )
    bot = await env.sr(
        "bots_create",
        {
            "name": "parity", "strategy_id": strategy["strategy_id"], "strategy_version": 1,
            "account_id": account["account_id"], "symbol": "BTC/USDT", "timeframe": "1m",
            "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "5",
        },
    )  # fmt: skip
    bot_id = bot["bot_id"]
    for index in range(FIRST_DECIDED):
        await market.trade(index, PRICES[index])
    await env.sr("bots_start", {"bot_id": bot_id})
    for index in range(FIRST_DECIDED, len(PRICES)):
        await market.trade(index, PRICES[index])  # closes bar index - 1: the bot decides it
        closed = market.bar_ns(index - 1)

        async def decided(bar_ns: int = closed) -> bool:
            return ((await env.sr("bots_get", {"bot_id": bot_id}))["last_bar_ns"] or 0) >= bar_ns

        await eventually(decided)
        mine = [d for d in await decisions(env.sr, bot_id) if d["bar_ns"] == closed]
        if not any(d["client_order_id"] for d in mine):
            continue

        async def accepted(bar_ns: int = closed) -> bool:
            return any(d["order_id"] for d in await decisions(env.sr, bot_id) if d["bar_ns"] == bar_ns)

        await eventually(accepted)
        # a second trade in this bar at its price (its candle unchanged) fills the market order
        await market._trade(market.bar_ns(index) + 30_000_000_000, index, PRICES[index], "5")

        async def filled() -> bool:
            orders = (await env.sr("bots_orders", {"bot_id": bot_id, "limit": 50}))["items"]
            return all(order["status"] == "filled" for order in orders)

        await eventually(filled)
    trades = (await env.sr("bots_trades", {"bot_id": bot_id, "limit": 50}))["items"]
    replayed = sorted(
        (t["side"], (t["bar_ns"] - market.start_ns) // MINUTE_NS + 1, Decimal(t["price"])) for t in trades
    )
    assert sorted(backtest_trades(market.start_ns)) == replayed
    assert len(replayed) == 4  # two round trips
