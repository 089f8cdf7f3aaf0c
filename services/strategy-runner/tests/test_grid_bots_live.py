"""A grid bot end to end over real NATS and Postgres, with real market-data and order-router:
checked against the instrument and balance, its ladder rests as limit orders, each fill places its
one replacement (a redelivered fill none), and a stop cancels what rests."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from bots_harness import BotsEnv, eventually
from sr_caller import Caller, fields

from tradeloom.shared.contracts.orders import OrderInfo, OrderUpdated
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import consumer_settled

GRID = {"lower": "90", "upper": "110", "levels": 5, "quantity_per_level": "0.1"}  # 90 95 100 105 110


async def orders_of(orders: Caller, account_id: str) -> list[tuple[str, str, str]]:
    listed = await orders("orders_list", {"account_id": account_id, "limit": 200})
    return sorted((o["side"], plain(Decimal(o["price"])), o["status"]) for o in listed["items"])


async def redeliver(env: BotsEnv, order_id: str) -> None:
    """order-router's order_updated of ``order_id`` once more, as a new event (a replayed stream)."""
    detail = await env.orders("orders_get", {"order_id": order_id})
    info = OrderInfo.model_validate(detail["order"])
    publisher = EventPublisher(env.market.nc.jetstream(), env.market.subjects, "tradeloom/order-router")
    event = OrderUpdated(user_id="alice", previous_status="new", order=info)
    await publisher.publish(event, info.account_id, event_id=str(uuid.uuid4()))


async def test_a_grid_bot_rests_its_ladder_replaces_each_fill_once_and_cancels_on_stop(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    account_id = (await env.orders("accounts_create", {"name": "grid"}))["account_id"]
    await env.market.trade_now(100)
    body: dict[str, Any] = {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", **GRID}

    async def priced() -> bool:  # market-data has applied the trade
        try:
            await env.orders.client.call_raw(
                "market-data", "latest_price", {"symbol": "BTC/USDT"}, timeout_s=10
            )
        except RemoteError:
            return False
        return True

    await eventually(priced)
    bad = await env.sr.error("grid_bots_create", body | {"upper": "80.005", "quantity_per_level": "0.123456"})
    assert bad.code == "validation_error"
    assert set(fields(bad)) == {"upper", "quantity_per_level"}
    broke = await env.sr.error("grid_bots_create", body | {"quantity_per_level": "1000"})
    assert fields(broke) == ["quantity_per_level"]  # 18,500 USDT of buys below 100 > 10,000 free
    assert (await env.sr.error("grid_bots_create", body | {"account_id": "nope"})).code == "not_found"

    bot = await env.sr("grid_bots_create", body)
    assert bot["status"] == "stopped" and [lot["buy_price"] for lot in bot["lots"]] == [
        "90",
        "95",
        "100",
        "105",
    ]
    assert (await env.sr.error("bots_get", {"bot_id": bot["bot_id"]})).code == "not_found"
    ref = {"bot_id": bot["bot_id"]}
    assert (await env.sr("grid_bots_start", ref))["status"] == "running"
    ladder = [("buy", "90", "new"), ("buy", "95", "new")]  # the buys below the last price

    async def resting(expected: list[tuple[str, str, str]]) -> bool:
        return await orders_of(env.orders, account_id) == expected

    async def wait_for(expected: list[tuple[str, str, str]]) -> None:
        try:
            await eventually(lambda: resting(expected))
        except AssertionError:  # say what the account holds instead
            raise AssertionError(f"orders {await orders_of(env.orders, account_id)} != {expected}") from None

    await wait_for(ladder)
    await env.market.trade_now(89)  # crosses both buys
    replaced = [
        ("buy", "90", "filled"),
        ("buy", "95", "filled"),
        ("sell", "100", "new"),
        ("sell", "95", "new"),
    ]
    await wait_for(sorted(replaced))
    info = await env.sr("grid_bots_get", ref)
    assert info["position"] == "0.2"
    assert [(lot["holding"], lot["cycle"]) for lot in info["lots"]] == [
        (True, 0),
        (True, 0),
        (False, 0),
        (False, 0),
    ]

    listed = await env.orders("orders_list", {"account_id": account_id, "limit": 200})
    for order in listed["items"]:
        if order["status"] == "filled":
            await redeliver(env, order["order_id"])
    js = env.market.nc.jetstream()
    await eventually(
        lambda: consumer_settled(js, env.market.subjects.stream("ORDERS"), "strategy_runner_orders")
    )
    assert await orders_of(env.orders, account_id) == sorted(replaced)  # nothing placed twice
    assert (await env.sr("grid_bots_get", ref))["lots"] == info["lots"]

    assert (await env.sr("grid_bots_stop", ref))["status"] == "stopped"
    cancelled = [("buy", "90", "filled"), ("buy", "95", "filled"), ("sell", "100", "canceled"),
                 ("sell", "95", "canceled")]  # fmt: skip
    await wait_for(sorted(cancelled))
