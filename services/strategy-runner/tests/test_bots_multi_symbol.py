"""A bot on several symbols (issue 13): one strategy version run independently on each symbol,
over real NATS and Postgres with real market-data (listing BTC/USDT and ETH/USDT) and order-router.
Each symbol trades from its own candles with its own deterministic client order ids; a candle of
either delivered again sends nothing twice; the views show both; bad symbol lists are 422s
naming the field, with nothing written."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bots_harness import (
    PARAMS,
    PRICES,
    SYMBOL,
    BotsEnv,
    MakeBotsEnv,
    Market,
    crossing_bar,
    decisions,
    entries_accepted,
    eventually,
)
from sr_caller import fields
from test_bot_exit_orders import with_exits

from tradeloom.shared.contracts.market_data import CandleClosed, TradesIngested, TradeTick
from tradeloom.shared.ids import market_data_id, new_event_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import symbol_token

ETH = "ETH/USDT"
SCALE = 0.1  # ETH's bars are BTC's a tenth: the same crossing bar, other prices


@pytest.fixture
async def multi_env(
    make_bots_env: MakeBotsEnv,
) -> AsyncIterator[BotsEnv]:
    """``bots_env`` with market-data listing BTC/USDT and ETH/USDT."""
    async with make_bots_env((SYMBOL, ETH)) as env:
        yield env


def _publisher(market: Market) -> EventPublisher:
    return EventPublisher(market.nc.jetstream(), market.subjects, "tradeloom/market-data")


async def eth_trade(market: Market, index: int, price: float, ts: int | None = None) -> None:
    """One ETH/USDT trade inside bar ``index`` (``ts``: at that time instead, e.g. now)."""
    trade_id = f"e{index}-{uuid.uuid4().hex[:8]}"
    tick = TradeTick.model_validate(
        {
            "trade_id": trade_id, "ts_ns": market.bar_ns(index) + 1_000_000_000 if ts is None else ts,
            "price": str(price), "amount": "5" if ts is not None else "0.5", "side": "buy",
        }
    )  # fmt: skip
    await _publisher(market).publish(
        TradesIngested(venue="sim", symbol=ETH, trades=[tick]), "sim", symbol_token(ETH),
        event_id=market_data_id("sim", ETH, trade_id),
    )  # fmt: skip


async def eth_candle_again(market: Market, index: int) -> None:
    price = PRICES[index] * SCALE
    event = CandleClosed.model_validate(
        {
            "venue": "sim", "symbol": ETH, "timeframe": "1m", "open_ns": market.bar_ns(index),
            "close_ns": market.bar_ns(index + 1) - 1, "open": price, "high": price, "low": price,
            "close": price, "volume": "0.5", "trade_count": 1,
        }
    )  # fmt: skip
    await _publisher(market).publish(event, "sim", symbol_token(ETH), "1m", event_id=new_event_id())


async def _bot_body(env: BotsEnv, **symbols: Any) -> dict[str, Any]:
    account = await env.orders("accounts_create", {"name": "multi"})
    strategy = await env.sr("strategies_create", {"name": "cross", "template": "sma_cross", "params": PARAMS})
    return {
        "name": "two markets", "strategy_id": strategy["strategy_id"], "strategy_version": 1,
        "account_id": account["account_id"], "timeframe": "1m",
        "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "20", **symbols,
    }  # fmt: skip


async def test_a_bot_on_two_symbols_trades_each_from_its_own_candles_once(multi_env: BotsEnv) -> None:
    env = multi_env
    body = await _bot_body(env, symbols=[SYMBOL, ETH]) | {"max_position": "1"}  # per symbol: 1 each
    bot = await env.sr("bots_create", body)
    assert (bot["symbol"], bot["symbols"]) == (SYMBOL, [SYMBOL, ETH])
    bot_id, account_id = bot["bot_id"], body["account_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    cross = crossing_bar()

    async def bought(symbol: str) -> bool:
        log = await decisions(env.sr, bot_id)
        return any(d["action"] == "buy" and d["order_id"] and d["symbol"] == symbol for d in log)

    await env.market.bars(0, cross + 1)  # BTC's candles only: BTC crosses, ETH has decided nothing
    await eventually(lambda: bought(SYMBOL))
    assert {d["symbol"] for d in await decisions(env.sr, bot_id)} == {SYMBOL}
    for index in range(cross + 2):  # now ETH's own candles: its own cross on the same bar
        await eth_trade(env.market, index, PRICES[index] * SCALE)
    await eventually(lambda: bought(ETH))
    await entries_accepted(env, bot_id)

    await env.market.trade_now(PRICES[cross + 2])  # each order fills on a trade of its symbol
    await eth_trade(env.market, -1, PRICES[cross + 2] * SCALE, ts=time.time_ns())

    async def both_long() -> bool:
        held = (await env.sr("bots_positions", {"bot_id": bot_id}))["items"]
        return [(p["symbol"], p["quantity"]) for p in held] == [(SYMBOL, "1"), (ETH, "1")]

    await eventually(both_long)
    await env.market.candle_again(cross)  # the crossing candle of either symbol once more
    await eth_candle_again(env.market, cross)
    await eventually(lambda: env.market.drained("strategy_runner_candles"))

    listed = (await env.orders("orders_list", {"account_id": account_id}))["items"]
    hex_id = uuid.UUID(bot_id).hex
    bar = env.market.bar_ns(cross)
    assert sorted((o["symbol"], o["side"], o["status"], o["client_order_id"]) for o in listed) == [
        (SYMBOL, "buy", "filled", f"bot-{hex_id}-{bar}"),
        (ETH, "buy", "filled", f"bot-{hex_id}-{bar}-m1"),
    ]
    log = await decisions(env.sr, bot_id)
    assert len({(d["symbol"], d["bar_ns"]) for d in log}) == len(log)  # one decision per symbol and bar
    buys = sorted((d["symbol"], d["bar_ns"]) for d in log if d["action"] == "buy")
    assert buys == [(SYMBOL, bar), (ETH, bar)]

    orders = (await env.sr("bots_orders", {"bot_id": bot_id}))["items"]
    assert sorted((o["symbol"], o["filled_quantity"]) for o in orders) == [(SYMBOL, "1"), (ETH, "1")]
    assert len((await env.sr("bots_trades", {"bot_id": bot_id}))["items"]) == 2
    assert (await env.sr("bots_performance", {"bot_id": bot_id}))["executions"] == 2
    again = await env.sr("bots_get", {"bot_id": bot_id})
    assert again["position"] == "1" and again["last_bar_ns"] is not None  # the first symbol's
    assert [b["symbols"] for b in (await env.sr("bots_list"))["items"]] == [[SYMBOL, ETH]]


async def test_bad_symbol_lists_are_422s_naming_the_field_and_write_nothing(multi_env: BotsEnv) -> None:
    env = multi_env
    body = await _bot_body(env)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"symbols": [SYMBOL, ETH, SYMBOL]}, "symbols"),  # duplicate
        ({"symbols": [SYMBOL, "DOGE/USDT"]}, "symbols.1"),  # not listed by market-data
        ({"symbols": [f"S{i:02d}/USDT" for i in range(21)]}, "symbols"),  # over 20
        ({"symbols": []}, "symbols"),
        ({"symbol": ETH, "symbols": [SYMBOL, ETH]}, "symbol"),  # both, disagreeing on the first
        ({}, "symbol"),  # neither
    ]
    for extra, field in cases:
        error = await env.sr.error("bots_create", body | extra)
        assert (error.code, fields(error)) == ("validation_error", [field]), extra
    assert (await env.sr("bots_list"))["items"] == []  # nothing written

    both = await env.sr("bots_create", body | {"symbol": SYMBOL, "symbols": [SYMBOL, ETH]})
    assert (both["symbol"], both["symbols"]) == (SYMBOL, [SYMBOL, ETH])
    old = await env.sr("bots_create", body | {"symbol": ETH})  # an old client: one symbol, as before
    assert (old["symbol"], old["symbols"]) == (ETH, [ETH])
    grid = {
        "name": "ladder", "account_id": body["account_id"], "symbol": SYMBOL, "symbols": [SYMBOL, ETH],
        "lower": "90", "upper": "110", "levels": 4, "quantity_per_level": "0.1",
    }  # fmt: skip
    refused = await env.sr.error("grid_bots_create", grid)  # a ladder is one symbol's
    assert (refused.code, fields(refused)) == ("validation_error", ["symbols"])


async def test_an_exit_signal_on_one_symbol_cancels_only_that_symbols_resting_exits(
    multi_env: BotsEnv,
) -> None:
    env = multi_env
    account = await env.orders("accounts_create", {"name": "brackets"})
    strategy = await env.sr("strategies_create", {"name": "b", "kind": "graph", "graph": with_exits()})
    bot = await env.sr(
        "bots_create",
        {"name": "two brackets", "strategy_id": strategy["strategy_id"], "strategy_version": 1,
         "account_id": account["account_id"], "symbols": [SYMBOL, ETH], "timeframe": "1m",
         "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "20"},
    )  # fmt: skip
    bot_id = bot["bot_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)
    for index in range(cross + 2):
        await eth_trade(env.market, index, PRICES[index] * SCALE)

    async def orders() -> dict[tuple[str, str], dict[str, Any]]:
        """The bot's orders by (symbol, ``buy``/``sell`` or the exit's suffix)."""
        found = {}
        for order in (await env.sr("bots_orders", {"bot_id": bot_id, "limit": 50}))["items"]:
            cid = order["client_order_id"]
            found[order["symbol"], cid[-3:] if cid[-3:] in ("-sl", "-tp") else order["side"]] = order
        return found

    async def both_bought() -> bool:
        held = await orders()
        return all(held.get((s, "buy"), {}).get("order_id") for s in (SYMBOL, ETH))

    await eventually(both_bought)
    await entries_accepted(env, bot_id)
    await env.market.trade_now(PRICES[cross + 1])  # each entry fills: its bracket's exits rest
    await eth_trade(env.market, -1, PRICES[cross + 1] * SCALE, ts=time.time_ns())

    async def all_resting() -> bool:
        held = await orders()
        return all(held.get((s, k), {}).get("status") == "new" for s in (SYMBOL, ETH) for k in ("-sl", "-tp"))

    await eventually(all_resting)
    for bar, price in ((cross + 2, 108.0), (cross + 3, 104.0), (cross + 4, 100.0)):  # BTC's exit signal
        await env.market.candle_again(bar, price)

    async def btc_sold() -> bool:
        return bool((await orders()).get((SYMBOL, "sell"), {}).get("order_id"))

    await eventually(btc_sold)  # sent only once its own exits were cancelled
    held = await orders()
    assert [held[SYMBOL, k]["status"] for k in ("-sl", "-tp")] == ["canceled", "canceled"]
    assert [held[ETH, k]["status"] for k in ("-sl", "-tp")] == ["new", "new"]  # ETH's still rest
    assert held[ETH, "-sl"]["client_order_id"] == f"{held[ETH, 'buy']['client_order_id']}-sl"
    assert (ETH, "sell") not in held
