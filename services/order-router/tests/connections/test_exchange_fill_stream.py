"""Fills of an exchange account over the venue's websocket (ccxt pro), reconcile after a lost socket."""

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually
from venue_harness import (
    DEADLINE_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_settings,
)

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient


@pytest_asyncio.fixture
async def streaming_trader(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any
) -> AsyncIterator[Caller]:
    """The router with fill streams on and polling as good as off: one pass at start, then only
    the passes a lost socket asks for."""
    update = {"venue_fill_streams": True, "venue_poll_interval_s": 3600.0}
    runtime = app.build(venue_settings(or_settings, standin_venue).model_copy(update=update))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


async def test_pushed_fill_then_a_lost_socket_and_a_fill_found_by_reconcile(
    streaming_trader: Caller, standin_venue: Any
) -> None:
    trader = streaming_trader
    account_id = await exchange_account(trader, standin_venue)
    first = await submit_when_ready(trader, limit_buy(account_id, "ws-1"))

    async def state() -> dict[str, Any]:
        return dict(await standin_venue.control("state"))

    async def subscribed() -> bool:
        return (await state())["user_streams"] >= 1

    async def is_filled(order_id: str) -> bool:
        return await order_status(trader, order_id) == "filled"

    await eventually(subscribed, DEADLINE_S)
    polls = (await state())["my_trades_calls"]
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ws-1")
    await eventually(lambda: is_filled(first["order_id"]), DEADLINE_S)
    assert (await state())["my_trades_calls"] == polls  # pushed, not polled

    second = await submit_when_ready(trader, limit_buy(account_id, "ws-2"))
    await standin_venue.control("drop_user_streams")  # the socket is lost and refused meanwhile
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ws-2")  # pushed to no one
    await eventually(lambda: is_filled(second["order_id"]), DEADLINE_S)
    assert (await state())["my_trades_calls"] > polls  # found by a reconcile pass
    await standin_venue.control("resume_user_streams")
    await eventually(subscribed, DEADLINE_S)  # trusted again after the pass
    third = await submit_when_ready(trader, limit_buy(account_id, "ws-3"))
    polls = (await state())["my_trades_calls"]
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ws-3")
    await eventually(lambda: is_filled(third["order_id"]), DEADLINE_S)
    assert (await state())["my_trades_calls"] == polls

    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    expected = [first["order_id"], second["order_id"], third["order_id"]]
    assert sorted(f["order_id"] for f in fills) == sorted(expected)  # each fill once
