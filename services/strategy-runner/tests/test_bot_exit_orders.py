"""A graph bot's stop-loss and take-profit rest as order-router's bracket of its entry (real
market-data and order-router): the price falls through the stop, the stop fills once, the
take-profit is cancelled with it, the bot is flat and its PnL is the round trip's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bots_harness import PARAMS, PRICES, BotsEnv, crossing_bar, decisions, entries_accepted, eventually
from sr_caller import fields
from test_graph_strategies import sma_cross

from tradeloom.shared.contracts.orders import OrderUpdated
from tradeloom.shared.publish import EventPublisher

STOP, TARGET = Decimal("0.05"), Decimal("0.2")


def with_exits(*extra: dict[str, Any]) -> dict[str, Any]:
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])  # its sink.stop_loss is 0.05
    target = {"id": "target", "type": "sink.take_profit", "params": {"fraction": float(TARGET)}}
    return {**graph, "nodes": [*graph["nodes"], target, *extra]}


async def bot_orders(env: BotsEnv, bot_id: str) -> list[dict[str, Any]]:
    return list((await env.sr("bots_orders", {"bot_id": bot_id}))["items"])


async def republish(env: BotsEnv, account_id: str, order_id: str) -> None:
    order = (await env.orders("orders_get", {"order_id": order_id}))["order"]
    event = OrderUpdated.model_validate({"user_id": "alice", "previous_status": "new", "order": order})
    publisher = EventPublisher(env.market.nc.jetstream(), env.market.subjects, "tradeloom/order-router")
    await publisher.publish(event, account_id)


async def orders_consumed(env: BotsEnv) -> bool:
    stream = env.market.subjects.stream("ORDERS")
    info = await env.market.nc.jetstream().consumer_info(stream, "strategy_runner_orders")
    return info.num_pending == 0 and info.num_ack_pending == 0


async def decision_learns_its_order_late(
    env: BotsEnv, db: tuple[Any, str], bot_id: str, entry: dict[str, Any], account_id: str
) -> None:
    """A submit whose answer was lost (a timeout) leaves the decision without its order id and the
    order no longer 'sending' once order-router reports it: the order update gives it the id."""
    (pg_server, schema), cid = db, entry["client_order_id"]
    sql = f"UPDATE \"{schema}\".bot_decisions SET order_id = NULL, reason = 'lost' WHERE client_order_id = "
    pg_server.execute(f"{sql}'{cid}'")
    await republish(env, account_id, entry["order_id"])

    async def learnt() -> bool:
        logged = [d for d in await decisions(env.sr, bot_id) if d["client_order_id"] == cid]
        return [(d["order_id"], d["reason"]) for d in logged] == [(entry["order_id"], "order sent")]

    await eventually(learnt)


async def test_a_bots_stop_loss_fills_once_and_cancels_its_take_profit(
    bots_env: BotsEnv, pg_server: Any, sr_schema: str
) -> None:
    """And a second bot, stopped while its exits rest, has them cancelled (its holding stays)."""
    env = bots_env
    account = await env.orders("accounts_create", {"name": "exit bots"})
    other = await env.orders("accounts_create", {"name": "stopped bot"})
    body = {"name": "exit bot", "strategy_version": 1, "account_id": account["account_id"],
            "symbol": "BTC/USDT", "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "1"},
            "max_position": "20"}  # fmt: skip
    trail = {"id": "trail", "type": "sink.trailing_stop", "params": {"fraction": 0.1}}
    plain = sma_cross(PARAMS["fast"], PARAMS["slow"])  # its stop-loss 0.05 tighter than the trail 0.1
    tighter = {**plain, "nodes": [*plain["nodes"], trail]}
    for graph, named in ((with_exits(trail), "sink.trailing_stop"), (tighter, "sink.stop_loss")):
        saved = await env.sr("strategies_create", {"name": named, "kind": "graph", "graph": graph})
        refused = await env.sr.error("bots_create", {**body, "strategy_id": saved["strategy_id"]})
        assert fields(refused) == ["strategy_id"] and named in refused.message
    strategy = await env.sr("strategies_create", {"name": "bracket", "kind": "graph", "graph": with_exits()})
    bot_id = (await env.sr("bots_create", {**body, "strategy_id": strategy["strategy_id"]}))["bot_id"]
    second = {**body, "strategy_id": strategy["strategy_id"], "account_id": other["account_id"]}
    stopped_id = (await env.sr("bots_create", second))["bot_id"]
    for bot in (bot_id, stopped_id):
        assert (await env.sr("bots_start", {"bot_id": bot}))["status"] == "running"
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def ordered() -> bool:
        logs = [await decisions(env.sr, bot) for bot in (bot_id, stopped_id)]
        return all(any(d["action"] == "buy" and d["order_id"] for d in log) for log in logs)

    await eventually(ordered)
    entry = (await bot_orders(env, bot_id))[0]
    await decision_learns_its_order_late(env, (pg_server, sr_schema), bot_id, entry, account["account_id"])
    routed = (await env.orders("orders_get", {"order_id": entry["order_id"]}))["order"]
    close = Decimal(str(PRICES[cross]))  # the levels of the decided bar's close, on the 0.01 tick
    assert Decimal(routed["stop_loss_price"]) == (close * (1 - STOP)).quantize(Decimal("0.01"))
    assert Decimal(routed["take_profit_price"]) == (close * (1 + TARGET)).quantize(Decimal("0.01"))

    await entries_accepted(env, bot_id, stopped_id)
    await env.market.trade_now(PRICES[cross + 1])  # the entry fills: the OCO exits open

    async def resting(bot: str, exits: str = "new") -> bool:
        return [(o["side"], o["status"]) for o in await bot_orders(env, bot)] == [
            ("sell", exits), ("sell", exits), ("buy", "filled"),
        ]  # fmt: skip

    await eventually(lambda: resting(bot_id))
    await eventually(lambda: resting(stopped_id))
    assert (await env.sr("bots_stop", {"bot_id": stopped_id}))["status"] == "stopped"
    await eventually(lambda: resting(stopped_id, "canceled"))
    assert (await env.sr("bots_get", {"bot_id": stopped_id}))["position"] == "1"
    assert (await env.sr("bots_positions", {"bot_id": bot_id}))["items"][0]["quantity"] == "1"
    stop_price = Decimal(routed["stop_loss_price"])
    await env.market.trade_now(float(stop_price) - 3)  # through the stop

    async def stopped_out() -> bool:
        statuses = {o["client_order_id"][-3:]: o["status"] for o in await bot_orders(env, bot_id)}
        return statuses.get("-sl") == "filled" and statuses.get("-tp") == "canceled"

    await eventually(stopped_out)
    orders = {o["client_order_id"]: o for o in await bot_orders(env, bot_id)}
    cid = entry["client_order_id"]
    buy, sl, tp = orders[cid], orders[f"{cid}-sl"], orders[f"{cid}-tp"]
    assert sl["filled_quantity"] == "1" and tp["filled_quantity"] == "0"
    assert sl["bar_ns"] == buy["bar_ns"] + 1 and tp["bar_ns"] == buy["bar_ns"] + 2
    for order in (sl, tp):  # order-router's updates once more, as new events: nothing changes
        await republish(env, account["account_id"], order["order_id"])
    await eventually(lambda: orders_consumed(env))
    exits = [d for d in await decisions(env.sr, bot_id) if d["signal"] in ("stop_loss", "take_profit")]
    assert [(d["signal"], d["action"], d["quantity"], d["client_order_id"]) for d in exits] == [
        ("stop_loss", "sell", "1", sl["client_order_id"])
    ]
    assert (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0"
    assert (await env.sr("bots_positions", {"bot_id": bot_id}))["items"][0]["quantity"] == "0"
    performance = await env.sr("bots_performance", {"bot_id": bot_id})
    realized = Decimal(sl["average_price"]) - Decimal(buy["average_price"])
    fees = Decimal(sl["fees"]) + Decimal(buy["fees"])
    assert realized < 0 and Decimal(performance["realized_pnl"]) == realized
    assert Decimal(performance["fees"]) == fees and Decimal(performance["net_pnl"]) == realized - fees
    assert performance["round_trips"] == 1 and performance["executions"] == 2
    listed = await env.orders("orders_list", {"account_id": account["account_id"]})
    assert sorted((o["side"], o["status"]) for o in listed["items"]) == [
        ("buy", "filled"), ("sell", "canceled"), ("sell", "filled"),
    ]  # fmt: skip
