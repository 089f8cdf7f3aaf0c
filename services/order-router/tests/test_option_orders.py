"""Paper option orders against a stand-in market-data's option quotes (real NATS and Postgres):
a buy fills at the ask and holds the option as its own asset, a limit below the ask is canceled
with its funds back, a sell fills at the bid, a short sale and a stop order are refused (422)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from or_harness import Caller, Neighbours, fields
from test_orders_flow import balances, open_account, wait_status

D = Decimal
CALL = "BTC/USDT:USDT-270129-65000-C"


@pytest.fixture
async def quotes(nc: Client, neighbours: Neighbours) -> AsyncIterator[dict[str, Any]]:
    """market-data's ``option_quotes`` answering the quote in the returned dict (mutable)."""
    quote: dict[str, Any] = {"bid": "118", "ask": "120.5"}
    asked: list[dict[str, Any]] = []

    async def answer(msg: Any) -> None:
        asked.append(json.loads(msg.data))
        item = {"symbol": CALL, **quote}
        await msg.respond(json.dumps({"data": {"spot": "65000", "quotes": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("market-data", "option_quotes"), cb=answer)
    try:
        yield {"quote": quote, "asked": asked}
    finally:
        await sub.unsubscribe()


def order(account: str, side: str, quantity: str, **more: Any) -> dict[str, Any]:
    return {
        "account_id": account,
        "symbol": CALL,
        "side": side,
        "type": "market",
        "quantity": quantity,
        **more,
    }


async def test_paper_option_orders_fill_at_the_quotes(alice: Caller, quotes: dict[str, Any]) -> None:
    account = await open_account(alice)
    bought = await alice("orders_submit", order(account, "buy", "0.5"))
    done = await wait_status(alice, bought["order_id"], "filled")
    assert (D(done["filled_quantity"]), D(done["average_price"])) == (D("0.5"), D("120.5"))
    assert quotes["asked"][0] == {"underlying": "BTC/USDT", "venue": "sim", "symbols": [CALL]}
    fee = D("60.25") * D("0.001")
    assert await balances(alice, account) == {
        "USDT": (D(10_000) - D("60.25") - fee, D(0)),
        CALL: (D("0.5"), D(0)),
    }

    rested = await alice("orders_submit", order(account, "buy", "1", type="limit", price="100"))
    canceled = await wait_status(alice, rested["order_id"], "canceled")
    assert canceled["reject_reason"] == "option_quote_not_crossed"
    assert (await balances(alice, account))["USDT"] == (D(10_000) - D("60.25") - fee, D(0))  # lock back

    short = await alice.error("orders_submit", order(account, "sell", "1"))
    assert (short.code, fields(short)) == ("validation_error", [("quantity", "option_short_refused")])
    stop = await alice.error(
        "orders_submit", order(account, "buy", "0.1", type="stop_market", stop_price="130")
    )
    assert ("type", "option_order_type") in fields(stop)

    sold = await alice("orders_submit", order(account, "sell", "0.5", type="limit", price="118"))
    assert D((await wait_status(alice, sold["order_id"], "filled"))["average_price"]) == D(118)
    got = await balances(alice, account)
    assert got["USDT"] == (D(10_000) - D("60.25") - fee + D(59) - D(59) * D("0.001"), D(0))
    assert got.get(CALL, (D(0), D(0))) == (D(0), D(0))

    quotes["quote"]["bid"] = None
    await alice("orders_submit", order(account, "buy", "0.2"))
    no_bid = await alice.error("orders_submit", order(account, "sell", "0.1"))
    assert fields(no_bid) == [("side", "no_option_quote")]
