"""A live bot's trailing stop, and an exit by signal while exits rest (real market-data and
order-router, one stack for both bots).

Bot T (sma_cross 3/5 with a 10 % trailing stop): its entry fills, the bot rests a trailing-stop
sell at order-router, the price rises then falls 10 % from its high, the trailing stop fills once,
the bot is flat and its PnL is the round trip's. Bot S (with a stop-loss and a take-profit
resting as the bracket): its strategy's exit signal cancels both resting exits first, then its
sell fills once; flat, PnL right, no exit logged as a stop-loss or take-profit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bots_harness import PARAMS, PRICES, BotsEnv, crossing_bar, decisions, entries_accepted, eventually
from test_bot_exit_orders import bot_orders, orders_consumed, republish, with_exits
from test_graph_strategies import sma_cross

TRAIL = {"id": "trail", "type": "sink.trailing_stop", "params": {"fraction": 0.1}}


def trailing_graph() -> dict[str, Any]:
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    return {**graph, "nodes": [*(n for n in graph["nodes"] if n["id"] != "stop"), TRAIL]}


async def start_bot(env: BotsEnv, name: str, graph: dict[str, Any]) -> tuple[str, str]:
    account = await env.orders("accounts_create", {"name": name})
    strategy = await env.sr("strategies_create", {"name": name, "kind": "graph", "graph": graph})
    bot = await env.sr(
        "bots_create",
        {"name": name, "strategy_id": strategy["strategy_id"], "strategy_version": 1,
         "account_id": account["account_id"], "symbol": "BTC/USDT", "timeframe": "1m",
         "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "20"},
    )  # fmt: skip
    assert (await env.sr("bots_start", {"bot_id": bot["bot_id"]}))["status"] == "running"
    return bot["bot_id"], account["account_id"]


async def by_suffix(env: BotsEnv, bot_id: str) -> dict[str, dict[str, Any]]:
    """The bot's orders: ``buy``, ``sell`` (a bar's) and the exits by suffix (``-ts``, ``-sl``...)."""
    found = {}
    for order in await bot_orders(env, bot_id):
        cid = order["client_order_id"]
        found[cid[-3:] if cid[-3] == "-" else order["side"]] = order
    return found


async def performance_is_the_round_trip(
    env: BotsEnv, bot_id: str, buy: dict[str, Any], sell: dict[str, Any]
) -> None:
    assert (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0"
    performance = await env.sr("bots_performance", {"bot_id": bot_id})
    realized = Decimal(sell["average_price"]) - Decimal(buy["average_price"])
    fees = Decimal(sell["fees"]) + Decimal(buy["fees"])
    assert Decimal(performance["realized_pnl"]) == realized
    assert Decimal(performance["net_pnl"]) == realized - fees
    assert performance["round_trips"] == 1 and performance["executions"] == 2


async def test_a_trailing_stop_rests_and_fills_once_and_an_exit_signal_cancels_resting_exits_first(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    trail_id, trail_account = await start_bot(env, "trailing", trailing_graph())
    signal_id, signal_account = await start_bot(env, "bracket", with_exits())
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def bought() -> bool:
        logs = [await decisions(env.sr, bot) for bot in (trail_id, signal_id)]
        return all(any(d["action"] == "buy" and d["order_id"] for d in log) for log in logs)

    await eventually(bought)
    await entries_accepted(env, trail_id, signal_id)
    await env.market.trade_now(PRICES[cross + 1])  # both entries fill (and bar cross + 1 closes)

    async def resting() -> bool:
        trail, signal = await by_suffix(env, trail_id), await by_suffix(env, signal_id)
        return trail.get("-ts", {}).get("status") == "new" and all(
            signal.get(kind, {}).get("status") == "new" for kind in ("-sl", "-tp")
        )

    await eventually(resting)
    trail = await by_suffix(env, trail_id)
    assert trail["buy"]["status"] == "filled" and trail["-ts"]["bar_ns"] == trail["buy"]["bar_ns"] + 3
    routed = (await env.orders("orders_get", {"order_id": trail["-ts"]["order_id"]}))["order"]
    assert (routed["type"], routed["side"], routed["quantity"], Decimal(routed["trailing_percent"])) == (
        "trailing_stop", "sell", "1", Decimal(10),
    )  # fmt: skip

    # the trailing stop: up to 119 (its level 107.1; the bracket's target 130.8 not reached),
    # then down to 105 (the bracket's stop at 103.55 not reached)
    await env.market.trade_now(119)
    await env.market.trade_now(105)

    async def trailed_out() -> bool:
        if (await by_suffix(env, trail_id))["-ts"]["status"] != "filled":
            await env.market.trade_now(105)  # a triggered stop fills on a trade after its trigger
            return False
        return True

    await eventually(trailed_out)
    trail = await by_suffix(env, trail_id)
    for order in (trail["buy"], trail["-ts"]):  # order-router's updates once more: nothing changes
        await republish(env, trail_account, order["order_id"])
    await eventually(lambda: orders_consumed(env))
    exits = [d for d in await decisions(env.sr, trail_id) if d["signal"] == "trailing_stop"]
    assert [(d["action"], d["quantity"], d["client_order_id"]) for d in exits] == [
        ("sell", "1", trail["-ts"]["client_order_id"])
    ]
    assert Decimal(trail["-ts"]["average_price"]) < Decimal(trail["buy"]["average_price"])
    await performance_is_the_round_trip(env, trail_id, trail["buy"], trail["-ts"])
    assert {o: v["status"] for o, v in (await by_suffix(env, signal_id)).items()} == {
        "buy": "filled", "-sl": "new", "-tp": "new",
    }  # fmt: skip

    # the exit by signal: falling closes until the fast mean crosses below the slow one
    async def decided(bar: int) -> bool:
        bar_ns = env.market.bar_ns(bar)
        logs = [await decisions(env.sr, bot) for bot in (trail_id, signal_id)]
        return all(any(d["bar_ns"] == bar_ns for d in log) for log in logs)

    await eventually(lambda: decided(cross + 1))  # its candle came from market-data
    for bar, price in ((cross + 2, 108.0), (cross + 3, 104.0), (cross + 4, 100.0)):
        await env.market.candle_again(bar, price)
        await eventually(lambda bar=bar: decided(bar))  # type: ignore[misc]

    async def sold() -> bool:
        orders = await by_suffix(env, signal_id)
        return "sell" in orders and orders["sell"]["order_id"] is not None

    await eventually(sold)
    await env.market.trade_now(101)

    async def flat() -> bool:
        return (await by_suffix(env, signal_id))["sell"]["status"] == "filled"

    await eventually(flat)
    signal = await by_suffix(env, signal_id)
    assert (signal["-sl"]["status"], signal["-tp"]["status"], signal["sell"]["filled_quantity"]) == (
        "canceled", "canceled", "1",
    )  # fmt: skip
    routed_exit = (await env.orders("orders_get", {"order_id": signal["-sl"]["order_id"]}))["order"]
    routed_sell = (await env.orders("orders_get", {"order_id": signal["sell"]["order_id"]}))["order"]
    assert routed_exit["updated_at"] <= routed_sell["created_at"]  # cancelled before the sell existed
    log = await decisions(env.sr, signal_id)
    assert [(d["signal"], d["action"]) for d in log if d["action"] in ("buy", "sell")] == [
        ("exit_long", "sell"), ("entry_long", "buy"),
    ]  # fmt: skip
    await performance_is_the_round_trip(env, signal_id, signal["buy"], signal["sell"])
    listed = await env.orders("orders_list", {"account_id": signal_account})
    assert sorted((o["side"], o["status"]) for o in listed["items"]) == [
        ("buy", "filled"), ("sell", "canceled"), ("sell", "canceled"), ("sell", "filled"),
    ]  # fmt: skip
    exit_bar = env.market.bar_ns(cross + 4)  # the trailing bot, flat, holds on the exit signal
    assert [d["action"] for d in await decisions(env.sr, trail_id) if d["bar_ns"] == exit_bar] == ["hold"]
