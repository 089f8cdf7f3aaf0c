"""Conditional orders on a linear perpetual (Binance USDⓈ-M algo orders through the real ccxt
library, the stand-in's ``/fapi/v1/algoOrder``): placed, listed and found by client id while they
wait, followed to the normal order each becomes when the price crosses, cancelled before that."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest_asyncio

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder

SPOT_AND_LINEAR = {"fetchMarkets": {"types": ["spot", "linear"]}}
PERP = "BTC/USDT:USDT"


@pytest_asyncio.fixture
async def venue(standin_venue: Any) -> AsyncIterator[CcxtVenue]:
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    adapter = CcxtVenue("binance", creds, timeout_s=10.0, api_urls=urls, options=SPOT_AND_LINEAR)
    try:
        yield adapter
    finally:
        await adapter.close()


def conditional(client_id: str, kind: str, side: str = "sell", **extra: Any) -> PlaceOrder:
    return PlaceOrder(client_id, PERP, side, kind, Decimal("0.01"), leverage=5, **extra)  # type: ignore[arg-type]


async def test_each_kind_waits_as_an_algo_order_then_fills_as_the_order_it_became(
    venue: CcxtVenue, standin_venue: Any
) -> None:
    orders = [
        conditional("c-sm", "stop_market", trigger_price=Decimal("49000")),
        conditional("c-sl", "stop_limit", trigger_price=Decimal("49000"), price=Decimal("48900")),
        conditional("c-tpm", "take_profit_market", side="buy", trigger_price=Decimal("49500")),
        conditional(
            "c-tpl", "take_profit_limit", side="buy", trigger_price=Decimal("49500"), price=Decimal("49600")
        ),
        conditional("c-tr", "trailing_stop", trailing_percent=Decimal("1.5")),
    ]  # fmt: skip
    for order in orders:
        placed = await venue.place(order)
        assert (placed.status, placed.client_order_id) == ("new", order.client_order_id)
        assert placed.venue_order_id.startswith("algo-")
    algos = (await standin_venue.control("state"))["fapi"]["algo"].values()
    assert [(a["clientAlgoId"], a["orderType"]) for a in algos] == [
        ("c-sm", "STOP_MARKET"), ("c-sl", "STOP"), ("c-tpm", "TAKE_PROFIT_MARKET"), ("c-tpl", "TAKE_PROFIT"),
        ("c-tr", "TRAILING_STOP_MARKET"),
    ]  # fmt: skip
    assert next(a for a in algos if a["clientAlgoId"] == "c-tr")["callbackRate"] == "1.5"
    waiting = {o.client_order_id: o for o in await venue.fetch_open_orders(PERP)}
    assert sorted(waiting) == ["c-sl", "c-sm", "c-tpl", "c-tpm", "c-tr"]
    await standin_venue.control("set_price", symbol="BTCUSDT", price="49000")  # all five cross
    found = {o.client_order_id: await venue.fetch_order_by_client_id(PERP, o.client_order_id) for o in orders}
    statuses = {cid: (o.status, o.venue_order_id.startswith("algo-")) for cid, o in found.items() if o}
    assert statuses == {
        "c-sm": ("filled", False), "c-sl": ("new", False), "c-tpm": ("filled", False),
        "c-tpl": ("new", False), "c-tr": ("filled", False),
    }  # fmt: skip
    assert await venue.fetch_open_orders(PERP) != []  # the two limit orders rest, under their own ids
    fills = await venue.fetch_fills_since(PERP, None)
    by_order = {f.venue_order_id: f for f in fills}
    assert {found[c].venue_order_id for c in ("c-sm", "c-tpm", "c-tr")} == set(by_order)  # type: ignore[union-attr]
    assert {f.price for f in fills} == {Decimal("49000")}


async def test_cancel_before_trigger_and_a_lookup_of_an_unknown_client_id(
    venue: CcxtVenue, standin_venue: Any
) -> None:
    await venue.place(conditional("x-1", "stop_market", trigger_price=Decimal("45000")))
    canceled = await venue.cancel(PERP, client_order_id="x-1", conditional=True)
    assert (canceled.client_order_id, canceled.status) == ("x-1", "canceled")
    found = await venue.fetch_order_by_client_id(PERP, "x-1")
    assert found is not None and found.status == "canceled"
    assert await venue.fetch_order_by_client_id(PERP, "never-sent") is None
    assert await venue.fetch_open_orders(PERP) == []
    await standin_venue.control("set_price", symbol="BTCUSDT", price="44000")
    state = (await standin_venue.control("state"))["fapi"]
    assert state["orders"] == {} and [a["algoStatus"] for a in state["algo"].values()] == ["CANCELED"]


async def test_conditional_problem_names_the_field(venue: CcxtVenue) -> None:
    assert await venue.conditional_problem(PERP, "stop_market") is None
    assert await venue.conditional_problem(PERP, "trailing_stop", Decimal("10")) is None
    for percent in ("0.05", "10.1", "1.55"):  # Binance USDⓈ-M: 0.1..10 % in steps of 0.1
        problem = await venue.conditional_problem(PERP, "trailing_stop", Decimal(percent))
        assert problem is not None and problem[0] == "trailing_percent", percent
    assert await venue.conditional_problem("BTC/USDT", "trailing_stop", Decimal("1.55")) is None  # spot bips
    assert await venue.conditional_problem(PERP, "limit") is None
