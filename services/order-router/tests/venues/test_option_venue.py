"""A Binance option through the real ccxt library against the stand-in's eapi routes."""

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder
from tradeloom.order_router.venues.errors import OutcomeUnknown, VenueError
from tradeloom.shared.errors import ValidationFailed

SPOT_AND_OPTIONS = {"fetchMarkets": {"types": ["spot", "option"]}}
CALL = "BTC/USDT:USDT-270129-65000-C"


def limit(side: str, quantity: str, price: str, *, client_id: str, reduce_only: bool = False) -> PlaceOrder:
    return PlaceOrder(
        client_id,
        CALL,
        side,
        "limit",
        Decimal(quantity),
        Decimal(price),
        reduce_only=reduce_only,  # type: ignore[arg-type]
    )


async def test_buy_and_sell_an_option_limit_only_fills_polled(standin_venue: Any) -> None:
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    venue = CcxtVenue("binance", creds, timeout_s=3.0, api_urls=urls, options=SPOT_AND_OPTIONS)
    try:
        assert await venue.fill_stream_kinds() == ["spot"]  # no options user stream in ccxt pro
        with pytest.raises(ValidationFailed, match="type"):
            await venue.place(PlaceOrder("opt-m", CALL, "buy", "market", Decimal("0.1")))
        with pytest.raises(VenueError, match="-2022"):  # nothing held to reduce
            await venue.place(limit("sell", "0.1", "1500", client_id="opt-0", reduce_only=True))
        bought = await venue.place(limit("buy", "0.1", "1500", client_id="opt-1"))
        assert (bought.symbol, bought.status, bought.client_order_id) == (CALL, "new", "opt-1")
        assert [o.client_order_id for o in await venue.fetch_open_orders(CALL)] == ["opt-1"]
        await standin_venue.control("eapi_fill", symbol="BTC-270129-65000-C", clientOrderId="opt-1")
        sold = await venue.place(limit("sell", "0.1", "1600", client_id="opt-2", reduce_only=True))
        await standin_venue.control("eapi_fill", symbol="BTC-270129-65000-C", clientOrderId="opt-2")
        found = await venue.fetch_order_by_client_id(CALL, "opt-2")
        assert found is not None and (found.venue_order_id, found.status) == (sold.venue_order_id, "filled")
        fills = await venue.fetch_fills_since(CALL, None)
        assert [(f.side, f.price, f.quantity, f.fee, f.fee_asset) for f in fills] == [
            ("buy", Decimal(1500), Decimal("0.1"), Decimal("0.03"), "USDT"),
            ("sell", Decimal(1600), Decimal("0.1"), Decimal("0.032"), "USDT"),
        ]
        await standin_venue.control("hang_next_order", seconds=6)
        with pytest.raises(OutcomeUnknown):  # accepted, but no answer within the deadline
            await venue.place(limit("buy", "0.1", "1000", client_id="opt-3"))
        resting = await venue.fetch_order_by_client_id(CALL, "opt-3")  # what reconcile asks
        assert resting is not None and resting.status == "new"
        canceled = await venue.cancel(CALL, client_order_id="opt-3")
        assert (canceled.venue_order_id, canceled.status) == (resting.venue_order_id, "canceled")
        options = (await standin_venue.control("state"))["eapi"]
        assert options["positions"] == {"BTC-270129-65000-C": "0.00000000"}
        assert Decimal(options["wallet"]) == Decimal("10009.938")  # −150 −0.03 +160 −0.032
    finally:
        await venue.close()


async def test_the_best_bid_and_an_ioc_sell_there_or_above(standin_venue: Any) -> None:
    """What a flatten of a venue option does: the venue's best bid, then a reduce-only IOC limit
    sell; above the bid nothing meets it and it is cancelled at once, at the bid it fills there."""
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    venue = CcxtVenue("binance", creds, timeout_s=3.0, api_urls=urls, options=SPOT_AND_OPTIONS)
    try:
        assert await venue.fetch_best_bid(CALL) is None  # nobody bids
        await venue.place(limit("buy", "0.1", "1500", client_id="b-1"))
        await standin_venue.control("eapi_fill", symbol="BTC-270129-65000-C", clientOrderId="b-1")
        await standin_venue.control(
            "eapi_book",
            symbol="BTC-270129-65000-C",
            bids=[["1605", "2"], ["1600", "5"]],
            asks=[["1650", "1"]],
        )
        assert await venue.fetch_best_bid(CALL) == Decimal(1605)

        def ioc_sell(price: str, client_id: str) -> PlaceOrder:
            return PlaceOrder(client_id, CALL, "sell", "limit", Decimal("0.1"), Decimal(price),
                              time_in_force="IOC", reduce_only=True)  # fmt: skip

        missed = await venue.place(ioc_sell("1610", "s-1"))
        assert missed.status == "canceled"
        sold = await venue.place(ioc_sell("1605", "s-2"))
        assert (sold.status, sold.filled) == ("filled", Decimal("0.1"))
        sent = (await standin_venue.control("state"))["eapi"]["orders"].values()
        assert [(o["clientOrderId"], o["timeInForce"], o["reduceOnly"]) for o in sent][1:] == [
            ("s-1", "IOC", True), ("s-2", "IOC", True),
        ]  # fmt: skip
    finally:
        await venue.close()
