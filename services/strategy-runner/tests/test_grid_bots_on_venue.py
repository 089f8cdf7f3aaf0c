"""A grid bot on an exchange (venue) account (issue 13): its ladder rests at the venue (order-router
against its stand-in Binance spot process through the real ccxt library), a fill at the venue gets
its one replacement there, and a stop cancels what rests there."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bots_harness import BotsEnv, eventually
from test_bots_on_venue import DEADLINE_S, VENUE, exchange_account, standin_venue, venue_bots_env

from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.rpc import RemoteError

__all__ = ["standin_venue", "venue_bots_env"]  # the fixtures, by name

GRID = {"lower": "90", "upper": "110", "levels": 5, "quantity_per_level": "0.1"}  # 90 95 100 105 110


async def at_venue(standin: Any) -> list[tuple[str, str, str]]:
    """The stand-in's orders: (side, price, status)."""
    orders = (await standin.control("state"))["orders"].values()
    return sorted((o["side"].lower(), plain(Decimal(o["price"])), o["status"]) for o in orders)


async def test_a_grid_bot_on_an_exchange_account_rests_its_ladder_at_the_venue(
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
    body = {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", "venue": VENUE, **GRID}
    bot = await env.sr("grid_bots_create", body)
    ref = {"bot_id": bot["bot_id"]}
    assert (await env.sr("grid_bots_start", ref))["status"] == "running"

    async def venue_holds(expected: list[tuple[str, str, str]]) -> None:
        async def same() -> bool:
            return await at_venue(standin_venue) == sorted(expected)

        try:
            await eventually(same, DEADLINE_S)
        except AssertionError:
            raise AssertionError(f"venue {await at_venue(standin_venue)} != {sorted(expected)}") from None

    await venue_holds([("buy", "90", "NEW"), ("buy", "95", "NEW")])  # the buys below the last price
    listed = (await env.orders("orders_list", {"account_id": account_id, "limit": 200}))["items"]
    buy_95 = next(o for o in listed if Decimal(o["price"]) == 95)
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId=buy_95["client_order_id"])
    # the fill comes back through order-router's reconcile; its replacement sell rests at the venue
    await venue_holds([("buy", "90", "NEW"), ("buy", "95", "FILLED"), ("sell", "100", "NEW")])

    async def holding() -> bool:
        return (await env.sr("grid_bots_get", ref))["position"] == "0.1"

    await eventually(holding, DEADLINE_S)
    assert (await env.sr("grid_bots_stop", ref))["status"] == "stopped"
    await venue_holds([("buy", "90", "CANCELED"), ("buy", "95", "FILLED"), ("sell", "100", "CANCELED")])
    assert len(await at_venue(standin_venue)) == 3  # each order sent once
