"""A live bot with a trailing stop and a take-profit (real market-data and order-router): its entry
goes as order-router's bracket with a trailing stop leg; once it fills, the trailing stop (``-ts``)
and the take-profit (``-tp``) rest as one OCO pair. Bot T's target is far: the price rises then
falls 10 % from its high, the trailing leg fills once, the take-profit is cancelled. Bot P's target
is near: the same rise fills its take-profit, its trailing leg is cancelled. Each exit is logged
once (republished updates change nothing), each bot is flat with its round trip's PnL.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from bots_harness import PARAMS, PRICES, BotsEnv, crossing_bar, decisions, entries_accepted, eventually
from test_bot_exit_orders import orders_consumed, republish
from test_bot_lone_exits import TRAIL, by_suffix, performance_is_the_round_trip, start_bot
from test_graph_strategies import sma_cross


def trailing_with_target(fraction: str) -> dict[str, Any]:
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    target = {"id": "target", "type": "sink.take_profit", "params": {"fraction": float(fraction)}}
    return {**graph, "nodes": [*(n for n in graph["nodes"] if n["id"] != "stop"), TRAIL, target]}


async def test_a_trailing_stop_and_a_take_profit_rest_as_one_oco_pair_and_one_exit_fills(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    far_id, far_account = await start_bot(env, "trail wins", trailing_with_target("0.25"))
    near_id, near_account = await start_bot(env, "target wins", trailing_with_target("0.05"))
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def bought() -> bool:
        logs = [await decisions(env.sr, bot) for bot in (far_id, near_id)]
        return all(any(d["action"] == "buy" and d["order_id"] for d in log) for log in logs)

    await eventually(bought)
    await entries_accepted(env, far_id, near_id)
    close = Decimal(str(PRICES[cross]))  # the decided bar's close: the target on the tick, upwards
    for bot, fraction in ((far_id, "0.25"), (near_id, "0.05")):
        entry = (await by_suffix(env, bot))["buy"]
        routed = (await env.orders("orders_get", {"order_id": entry["order_id"]}))["order"]
        target = (close * (1 + Decimal(fraction))).quantize(Decimal("0.01"), ROUND_CEILING)
        assert (routed["type"], routed["stop_loss_price"], Decimal(routed["trailing_stop_percent"])) == (
            "market", None, Decimal(10),
        )  # fmt: skip
        assert Decimal(routed["take_profit_price"]) == target
    await env.market.trade_now(PRICES[cross + 1])  # both entries fill: each opens its OCO pair

    async def resting() -> bool:
        for bot in (far_id, near_id):
            orders = await by_suffix(env, bot)
            if any(orders.get(kind, {}).get("status") != "new" for kind in ("-ts", "-tp")):
                return False
        return True

    await eventually(resting)
    far = await by_suffix(env, far_id)
    assert (far["-ts"]["bar_ns"], far["-tp"]["bar_ns"]) == (
        far["buy"]["bar_ns"] + 3,
        far["buy"]["bar_ns"] + 2,
    )
    legs = [
        (await env.orders("orders_get", {"order_id": far[k]["order_id"]}))["order"] for k in ("-ts", "-tp")
    ]
    assert legs[0]["oco_group"] == legs[1]["oco_group"] and legs[0]["type"] == "trailing_stop"
    assert Decimal(legs[0]["trailing_percent"]) == Decimal(10) and legs[0]["quantity"] == "1"

    async def filled(bot: str, kind: str, price: float) -> bool:
        if (await by_suffix(env, bot))[kind]["status"] != "filled":
            await env.market.trade_now(price)  # a trade after the pair opened
            return False
        return True

    # up to 119: the near target (114.45) fills; the far trail's level rises to 107.1 …
    await eventually(lambda: filled(near_id, "-tp", 119))
    # … then down to 105: the far trailing leg fills (its target 136.25 never reached)
    await eventually(lambda: filled(far_id, "-ts", 105))
    outcomes = (
        (far_id, far_account, "-ts", "-tp", "trailing_stop"),
        (near_id, near_account, "-tp", "-ts", "take_profit"),
    )
    for bot, account, won, lost, _ in outcomes:
        orders = await by_suffix(env, bot)
        for order in (orders["buy"], orders[won], orders[lost]):  # the updates once more: nothing changes
            await republish(env, account, order["order_id"])
    await eventually(lambda: orders_consumed(env))
    for bot, _, won, lost, signal in outcomes:
        orders = await by_suffix(env, bot)
        assert (orders[won]["status"], orders[lost]["status"], orders[won]["filled_quantity"]) == (
            "filled", "canceled", "1",
        )  # fmt: skip
        routed = (await env.orders("orders_get", {"order_id": orders[lost]["order_id"]}))["order"]
        assert routed["reject_reason"] == "oco_other_filled"
        exits = [d for d in await decisions(env.sr, bot) if d["signal"] in ("trailing_stop", "take_profit")]
        assert [(d["signal"], d["action"], d["client_order_id"]) for d in exits] == [
            (signal, "sell", orders[won]["client_order_id"])
        ]
        await performance_is_the_round_trip(env, bot, orders["buy"], orders[won])
    far = await by_suffix(env, far_id)
    assert Decimal(far["-ts"]["average_price"]) < Decimal(far["buy"]["average_price"])
