"""order-router killed with SIGKILL while an exchange order is open: the fill that happened at the
venue meanwhile is applied once after the restart (reconciliation), and again after another kill.
Likewise a flatten's perp close, killed while the venue holds its answer: closed once."""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, router_process
from test_exchange_perps import PERP, leverage_5, perp_limit
from test_flatten import completed_events, publish_flatten
from venue_harness import (
    DEADLINE_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_settings,
)

from tradeloom.order_router.flatten import close_client_id
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

__all__ = ["leverage_5"]  # the fixture, used by name


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


async def test_kill_9_while_the_venue_holds_a_flatten_close_closes_the_perp_once(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    standin_venue: Any,
    tmp_path: Path,
    leverage_5: None,
) -> None:
    """The close is stored, sent, taken and filled at the venue, whose answer is held: the router
    is killed then, and after its restart reconcile finds the close by its client id (never sent
    again), books its fill once and completes the flatten once; another kill changes nothing."""
    options = {"binance": {"fetchMarkets": {"types": ["spot", "linear"]}}}
    settings = venue_settings(or_settings, standin_venue).model_copy(update={"venue_options": options})
    router = router_process(settings, tmp_path, venue_fill_streams=False)
    await asyncio.to_thread(router.start)
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: answers(trader), DEADLINE_S)
        account_id = await exchange_account(trader, standin_venue)
        opened = await submit_when_ready(trader, perp_limit(account_id, "kf-open", "buy", "50000"))
        await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId="kf-open")

        async def filled() -> bool:
            return await order_status(trader, opened["order_id"]) == "filled"

        await eventually(filled, DEADLINE_S)
        await standin_venue.control("hang_next_order", seconds=30)
        flatten = await publish_flatten(neighbours, "alice", account_id)
        close_id = close_client_id(flatten.id, PERP)

        async def closes() -> list[dict[str, Any]]:
            orders = (await standin_venue.control("state"))["fapi"]["orders"].values()
            return [o for o in orders if o["clientOrderId"] == close_id]

        async def at_venue() -> bool:
            return bool(await closes())

        await eventually(at_venue, DEADLINE_S)
        router.kill()  # the venue took and filled the close; its answer never reached the router
        await asyncio.to_thread(router.start)

        async def completed() -> bool:
            return bool(await completed_events(nc, neighbours.subjects, account_id))

        await eventually(completed, DEADLINE_S)
        router.kill()
        await asyncio.to_thread(router.start)
        await eventually(lambda: answers(trader), DEADLINE_S)
        await submit_when_ready(trader, perp_limit(account_id, "kf-2", "buy", "40000"))  # reconciled again
        assert [(o["side"], o["reduceOnly"], o["status"]) for o in await closes()] == [
            ("SELL", True, "FILLED")
        ]
        futures = (await standin_venue.control("state"))["fapi"]
        assert Decimal(futures["positions"]["BTCUSDT"]["amt"]) == 0
        fills = (await trader("fills_list", {"account_id": account_id}))["items"]
        assert sorted((f["side"], f["quantity"]) for f in fills) == [("buy", "0.01"), ("sell", "0.01")]
        [done] = await completed_events(nc, neighbours.subjects, account_id)
        assert (done.outcome, [o.client_order_id for o in done.orders]) == ("closed", [close_id])
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
