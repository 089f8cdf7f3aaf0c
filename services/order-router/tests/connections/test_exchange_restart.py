"""order-router killed with SIGKILL while an exchange order is open: the fill that happened at the
venue meanwhile is applied once after the restart (reconciliation), and again after another kill."""

import asyncio
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, router_process
from venue_harness import (
    DEADLINE_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_settings,
)

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient


async def answers(caller: Caller) -> bool:
    try:
        await caller("exchange_venues_list")
    except ServiceError:
        return False
    return True


async def test_fills_while_down_are_applied_once_after_kill_9(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, tmp_path: Path
) -> None:
    router = router_process(venue_settings(or_settings, standin_venue), tmp_path)
    await asyncio.to_thread(router.start)
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: answers(trader), DEADLINE_S)
        account_id = await exchange_account(trader, standin_venue)
        order = await submit_when_ready(trader, limit_buy(account_id, "k-1"))
        assert order["status"] == "new"
        router.kill()
        await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="k-1", qty="0.004")
        await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="k-1")
        await asyncio.to_thread(router.start)

        async def filled() -> bool:
            return await answers(trader) and await order_status(trader, order["order_id"]) == "filled"

        await eventually(filled, DEADLINE_S)
        router.kill()
        await asyncio.to_thread(router.start)
        await eventually(lambda: answers(trader), DEADLINE_S)
        await submit_when_ready(trader, limit_buy(account_id, "k-2"))  # reconciled again
        fills = (await trader("fills_list", {"account_id": account_id}))["items"]
        assert sorted(f["quantity"] for f in fills) == ["0.004", "0.006"]
        assert all(f["order_id"] == order["order_id"] for f in fills)
    finally:
        router.close()


async def test_a_bracket_entry_filled_while_down_opens_each_exit_once_across_kill_9(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, tmp_path: Path
) -> None:
    router = router_process(venue_settings(or_settings, standin_venue), tmp_path)
    await asyncio.to_thread(router.start)
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: answers(trader), DEADLINE_S)
        account_id = await exchange_account(trader, standin_venue)
        body = limit_buy(account_id, "kb-1") | {"stop_loss_price": "35000", "take_profit_price": "45000"}
        entry = await submit_when_ready(trader, body)
        router.kill()
        await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="kb-1")
        await asyncio.to_thread(router.start)  # reconcile applies the fill: the exits are stored and sent

        async def exits_stored() -> bool:
            if not await answers(trader):
                return False
            items = (await trader("orders_list", {"account_id": account_id}))["items"]
            return len([o for o in items if o["parent_order_id"] == entry["order_id"]]) == 2

        await eventually(exits_stored, DEADLINE_S)
        router.kill()  # maybe before an exit was sent, maybe after: either way each is sent once
        await asyncio.to_thread(router.start)

        async def both_rest() -> bool:
            if not await answers(trader):
                return False
            items = (await trader("orders_list", {"account_id": account_id}))["items"]
            exits = [o["status"] for o in items if o["parent_order_id"] == entry["order_id"]]
            return exits == ["new", "new"]

        await eventually(both_rest, DEADLINE_S)
        state = await standin_venue.control("state")
        at_venue = sorted((o["clientOrderId"], o["status"]) for o in state["orders"].values())
        assert at_venue == [("kb-1", "FILLED"), ("kb-1-sl", "NEW"), ("kb-1-tp", "NEW")]
    finally:
        router.close()
