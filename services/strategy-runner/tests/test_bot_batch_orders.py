"""A candle's orders of one owner's bots on a market go to order-router as one
``orders_submit_batch`` (issue 13), each answer recorded on its bot; a redelivered candle sends
none again (the fallbacks of a batch refused or unanswered: ``test_order_sender.py``)."""

from __future__ import annotations

import json

from bots_harness import PRICES, BotsEnv, crossing_bar, decisions, eventually, new_bot
from nats.aio.msg import Msg


async def test_one_candle_sends_the_bots_orders_as_one_batch_each_recorded_once(bots_env: BotsEnv) -> None:
    env = bots_env
    bots = [await new_bot(env.sr, env.orders, strategy_name=f"cross {n}") for n in range(3)]
    cross = crossing_bar()
    await env.market.bars(0, cross)  # closes every bar before the cross

    async def caught_up() -> bool:  # every bot decided the bar before the cross
        before = env.market.bar_ns(cross - 1)
        logs = [await decisions(env.sr, b) for b, _ in bots]
        return all(any(d["bar_ns"] == before for d in log) for log in logs)

    await eventually(caught_up)
    batches: list[int] = []

    async def seen(msg: Msg) -> None:  # a copy of each batch request (order-router answers it)
        batches.append(len(json.loads(msg.data)["orders"]))

    watch = await env.market.nc.subscribe(
        env.market.subjects.request("order-router", "orders_submit_batch"), cb=seen
    )
    try:
        await env.market.trade(cross + 1, PRICES[cross + 1])  # closes the crossing bar: three buys

        async def ordered() -> bool:
            logs = [await decisions(env.sr, b) for b, _ in bots]
            return all(any(d["action"] == "buy" and d["order_id"] for d in log) for log in logs)

        await eventually(ordered)
        assert batches == [3]
        await env.market.candle_again(cross)
        await eventually(lambda: env.market.drained("strategy_runner_candles"))
        assert batches == [3]  # nothing sent again
    finally:
        await watch.unsubscribe()
    for bot_id, account_id in bots:
        listed = await env.orders("orders_list", {"account_id": account_id})
        assert [o["side"] for o in listed["items"]] == ["buy"]
        buy = [d for d in await decisions(env.sr, bot_id) if d["action"] == "buy"]
        assert len(buy) == 1 and buy[0]["order_id"] == listed["items"][0]["order_id"]
