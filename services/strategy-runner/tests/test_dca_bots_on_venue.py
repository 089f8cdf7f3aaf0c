"""A DCA bot on an exchange (venue) account (issue 13): the base bought at market at the venue
(order-router against its stand-in Binance spot process through the real ccxt library), the
safeties and the take-profit resting there, a safety filled at the venue moving the take-profit
(the old one cancelled at the venue, the new one resting there), each order sent once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bots_harness import BotsEnv, eventually
from test_bots_on_venue import DEADLINE_S, VENUE, exchange_account, standin_venue, venue_bots_env

from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.rpc import RemoteError

__all__ = ["standin_venue", "venue_bots_env"]  # the fixtures, by name

DCA = {
    "base_quantity": "0.1", "safety_quantity": "0.1", "price_deviation": "0.05", "max_safety_orders": 2,
    "take_profit": "0.02",
}  # fmt: skip


async def at_venue(standin: Any) -> dict[str, tuple[str, str, str]]:
    """The stand-in's orders by DCA step (``0b``, ``0s1``, ``0t1``…): (type, side, status)."""
    orders = (await standin.control("state"))["orders"].values()
    return {o["clientOrderId"].rsplit("-d", 1)[1]: (o["type"], o["side"], o["status"]) for o in orders}


async def test_a_dca_cycle_on_an_exchange_account_rests_and_moves_its_orders_at_the_venue(
    venue_bots_env: BotsEnv, standin_venue: Any
) -> None:
    env = venue_bots_env
    await standin_venue.control("set_price", symbol="BTCUSDT", price="100")
    account_id = await exchange_account(env.orders, standin_venue)
    await env.market.trade_now(100)

    async def priced() -> bool:  # market-data has applied the trade
        try:
            await env.orders.client.call_raw(
                "market-data", "latest_price", {"venue": VENUE, "symbol": "BTC/USDT"}, timeout_s=10
            )
        except RemoteError:
            return False
        return True

    await eventually(priced, DEADLINE_S)
    body = {"name": "dca", "account_id": account_id, "symbol": "BTC/USDT", "venue": VENUE, **DCA}
    bot = await env.sr("dca_bots_create", body)
    ref = {"bot_id": bot["bot_id"]}
    assert (await env.sr("dca_bots_start", ref))["status"] == "running"

    async def venue_holds(expected: dict[str, tuple[str, str, str]]) -> None:
        async def same() -> bool:
            return await at_venue(standin_venue) == expected

        try:
            await eventually(same, DEADLINE_S)
        except AssertionError:
            raise AssertionError(f"venue {await at_venue(standin_venue)} != {expected}") from None

    first = {"0b": ("MARKET", "BUY", "FILLED"), "0s1": ("LIMIT", "BUY", "NEW"),
             "0s2": ("LIMIT", "BUY", "NEW"), "0t1": ("LIMIT", "SELL", "NEW")}  # fmt: skip
    await venue_holds(first)
    info = await env.sr("dca_bots_get", ref)
    assert Decimal(info["fills"][0]["price"]) == 100  # the venue's price
    listed = (await env.orders("orders_list", {"account_id": account_id, "limit": 200}))["items"]
    safety = next(o for o in listed if o["client_order_id"].endswith("-d0s1"))
    assert plain(Decimal(safety["price"])) == "95"
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId=safety["client_order_id"])
    moved = {**first, "0s1": ("LIMIT", "BUY", "FILLED"), "0t1": ("LIMIT", "SELL", "CANCELED"),
             "0t2": ("LIMIT", "SELL", "NEW")}  # fmt: skip
    await venue_holds(moved)

    async def averaged() -> bool:
        return len((await env.sr("dca_bots_get", ref))["fills"]) == 2

    await eventually(averaged, DEADLINE_S)
    listed = (await env.orders("orders_list", {"account_id": account_id, "limit": 200}))["items"]
    take = next(o for o in listed if o["client_order_id"].endswith("-d0t2"))
    assert (take["status"], take["quantity"]) == ("new", "0.2")
    assert len((await standin_venue.control("state"))["orders"]) == 5  # each order sent once
