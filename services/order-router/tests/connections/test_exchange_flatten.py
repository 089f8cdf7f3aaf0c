"""A flatten of an exchange account, carried out at the venue through the real ccxt library
against the stand-in venue: the open order is cancelled there, then the long is sold once."""

from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours
from test_flatten import _completed, completed_events, publish_flatten
from venue_harness import (
    DEADLINE_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_orders,
)

from tradeloom.order_router.flatten import close_client_id
from tradeloom.shared.testing.polling import eventually


async def test_a_flatten_cancels_at_the_venue_then_sells_the_long_once(
    trader: Caller, standin_venue: Any, neighbours: Neighbours, nc: Client
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    bought = await submit_when_ready(trader, limit_buy(account_id, "fl-buy"))
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="fl-buy")

    async def filled() -> bool:
        return await order_status(trader, bought["order_id"]) == "filled"

    await eventually(filled, timeout=DEADLINE_S)
    resting = await submit_when_ready(trader, limit_buy(account_id, "fl-rest"))

    flatten = await publish_flatten(neighbours, "alice", account_id)
    done = await eventually(lambda: _completed(nc, neighbours.subjects, account_id), timeout=DEADLINE_S)
    assert [o["status"] for o in await venue_orders(standin_venue, "fl-rest")] == ["CANCELED"]
    assert await order_status(trader, resting["order_id"]) == "canceled"
    close_id = close_client_id(flatten.id, "BTC/USDT")
    assert [(o["side"], o["type"], o["status"]) for o in await venue_orders(standin_venue, close_id)] == [
        ("SELL", "MARKET", "FILLED")
    ]
    assert done.outcome == "closed"
    assert [(o.client_order_id, o.side, o.status, str(o.filled_quantity)) for o in done.orders] == [
        (close_id, "sell", "filled", "0.01")
    ]
    assert len(await completed_events(nc, neighbours.subjects, account_id)) == 1
