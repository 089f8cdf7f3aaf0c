"""A DCA bot end to end over real NATS and Postgres, with real market-data and order-router: the
base bought at market, the safety ladder and take-profit resting, a safety fill moving the
take-profit (the old one cancelled) exactly once, a redelivered fill changing nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bots_harness import BotsEnv, eventually
from sr_caller import fields
from test_grid_bots_live import redeliver

from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import consumer_settled

DCA = {
    "base_quantity": "0.1", "safety_quantity": "0.1", "price_deviation": "0.05", "max_safety_orders": 2,
    "take_profit": "0.02",
}  # fmt: skip


async def ladder(env: BotsEnv, account_id: str) -> list[tuple[str, str, str, str]]:
    """(client id step, status, price, quantity) of the account's orders, by step."""
    listed = await env.orders("orders_list", {"account_id": account_id, "limit": 200})
    return sorted(
        (o["client_order_id"].rsplit("-d", 1)[1], o["status"], plain(Decimal(o["price"] or 0)),
         plain(Decimal(o["quantity"])))
        for o in listed["items"]
    )  # fmt: skip


async def test_a_dca_cycle_buys_its_base_rests_safeties_and_moves_the_take_profit_once(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    account_id = (await env.orders("accounts_create", {"name": "dca"}))["account_id"]
    await env.market.trade_now(100)

    async def priced() -> bool:  # market-data has applied the trade
        try:
            await env.orders.client.call_raw(
                "market-data", "latest_price", {"symbol": "BTC/USDT"}, timeout_s=10
            )
        except RemoteError:
            return False
        return True

    await eventually(priced)
    body: dict[str, Any] = {"name": "dca", "account_id": account_id, "symbol": "BTC/USDT", **DCA}
    bad = await env.sr.error("dca_bots_create", body | {"base_quantity": "0.123456"})
    assert fields(bad) == ["base_quantity"]
    bot = await env.sr("dca_bots_create", body)
    ref = {"bot_id": bot["bot_id"]}
    assert (await env.sr("dca_bots_start", ref))["status"] == "running"

    async def based() -> bool:
        if not (await env.sr("dca_bots_get", ref))["fills"]:
            await env.market.trade_now(100)  # the paper exchange fills the market base on a trade
            return False
        return True

    await eventually(based)
    info = await env.sr("dca_bots_get", ref)
    entry = Decimal(info["fills"][0]["price"])
    s1, s2 = plain(entry * Decimal("0.95")), plain(entry * Decimal("0.90"))
    first = [("0b", "filled", "0", "0.1"), ("0s1", "new", s1, "0.1"), ("0s2", "new", s2, "0.1"),
             ("0t1", "new", plain(Decimal(info["take_profit_price"])), "0.1")]  # fmt: skip

    async def orders_are(expected: list[tuple[str, str, str, str]]) -> bool:
        return await ladder(env, account_id) == sorted(expected)

    async def wait_for(expected: list[tuple[str, str, str, str]]) -> None:
        try:
            await eventually(lambda: orders_are(expected))
        except AssertionError:  # say what the account holds instead
            raise AssertionError(f"orders {await ladder(env, account_id)} != {sorted(expected)}") from None

    await wait_for(first)
    await env.market.trade_now(float(entry * Decimal("0.94")))  # fills safety 1 only

    async def averaged() -> bool:
        return len((await env.sr("dca_bots_get", ref))["fills"]) == 2

    await eventually(averaged)
    info = await env.sr("dca_bots_get", ref)
    tp = plain(Decimal(info["take_profit_price"]))
    moved = [("0b", "filled", "0", "0.1"), ("0s1", "filled", s1, "0.1"), ("0s2", "new", s2, "0.1"),
             ("0t1", "canceled", first[3][2], "0.1"), ("0t2", "new", tp, "0.2")]  # fmt: skip
    await wait_for(moved)
    assert Decimal(info["take_profit_price"]) > Decimal(info["average_entry"]) * Decimal("1.02") - Decimal(
        "0.01"
    )

    listed = await env.orders("orders_list", {"account_id": account_id, "limit": 200})
    for order in listed["items"]:
        if order["status"] == "filled":
            await redeliver(env, order["order_id"])
    js = env.market.nc.jetstream()
    await eventually(
        lambda: consumer_settled(js, env.market.subjects.stream("ORDERS"), "strategy_runner_orders")
    )
    assert await ladder(env, account_id) == sorted(moved)  # nothing placed or cancelled twice
    assert (await env.sr("dca_bots_get", ref))["fills"] == info["fills"]
