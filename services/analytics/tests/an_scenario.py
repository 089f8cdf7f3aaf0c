"""The scripted account of the integration tests: alice's account ``acc-1`` with a bot, fills and
closed candles in January 2026 (imported by name)."""

from __future__ import annotations

import uuid

from an_harness import Market, at, bot_client_id
from nats.aio.client import Client

from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled

BOT = str(uuid.uuid4())


FILLS = [  # (account, fill id, order id, side, price, quantity, fee, time)
    ("acc-1", "f1", "ob1", "buy", "100", "2", "0.2", at("2026-01-05", 10)),
    ("acc-1", "f2", "om2", "sell", "120", "1", "0.12", at("2026-01-07", 12)),
    ("acc-1", "f3", "ob3", "buy", "95", "1", "0.095", at("2026-01-08", 9)),
]
CANDLES = [("110", at("2026-01-05", 23)), ("105", at("2026-01-06", 22)), ("90", at("2026-01-08", 23))]


async def publish_scenario(market: Market) -> None:
    # the bot's first fill arrives before the order event that tags it
    for account, fill_id, order_id, side, price, qty, fee, when in FILLS[:1]:
        await market.fill("alice", account, fill_id, side, price, qty, when, fee=fee, order_id=order_id)
    await market.order("alice", "acc-1", "ob1", bot_client_id(BOT, 1), at("2026-01-05", 10))
    await market.order("alice", "acc-1", "ob3", bot_client_id(BOT, 2), at("2026-01-08", 9))
    await market.order("alice", "acc-1", "om2", "manual-2", at("2026-01-07", 12))
    for close, end in CANDLES:
        await market.candle(close, end)
    for account, fill_id, order_id, side, price, qty, fee, when in FILLS[1:]:
        await market.fill("alice", account, fill_id, side, price, qty, when, fee=fee, order_id=order_id)
    # a duplicate of f2 under a new envelope id changes nothing
    await market.fill(
        "alice", "acc-1", "f2", "sell", "120", "1", at("2026-01-07", 12), fee="0.12", order_id="om2"
    )


async def settled(nc: Client, subjects: Subjects) -> bool:
    js = nc.jetstream()
    return await consumer_settled(
        js, subjects.stream("ORDERS"), "analytics_orders"
    ) and await consumer_settled(js, subjects.stream("MD_CANDLES"), "analytics_candles")
