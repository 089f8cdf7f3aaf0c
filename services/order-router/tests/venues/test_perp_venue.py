"""A linear perpetual on a venue (Binance USDⓈ-M through the real ccxt library, stand-in fapi)."""

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder
from tradeloom.order_router.venues.errors import VenueError

SPOT_AND_LINEAR = {"fetchMarkets": {"types": ["spot", "linear"]}}
PERP = "BTC/USDT:USDT"


def market(side: str, quantity: str, *, reduce_only: bool = False, client_id: str) -> PlaceOrder:
    return PlaceOrder(
        client_id, PERP, side, "market", Decimal(quantity),  # type: ignore[arg-type]
        reduce_only=reduce_only, leverage=5, margin_mode="isolated",
    )  # fmt: skip


async def test_open_and_close_a_perp_position_leverage_set_once(standin_venue: Any) -> None:
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    venue = CcxtVenue("binance", creds, timeout_s=10.0, api_urls=urls, options=SPOT_AND_LINEAR)
    try:
        # ccxt picks Binance's futures-only error codes by the host name (fapi.binance.com), so from
        # the stand-in's host -2022 is a plain VenueError (a definite refusal, not outcome unknown)
        with pytest.raises(VenueError, match="-2022"):  # nothing to reduce yet
            await venue.place(market("sell", "0.01", reduce_only=True, client_id="perp-0"))
        opened = await venue.place(market("buy", "0.01", client_id="perp-1"))
        assert (opened.symbol, opened.status, opened.filled) == (PERP, "filled", Decimal("0.01"))
        await standin_venue.control("set_price", symbol="BTCUSDT", price="51000")
        with pytest.raises(VenueError, match="-2022"):  # more than the position: refused, not flipped
            await venue.place(market("sell", "0.02", reduce_only=True, client_id="perp-2"))
        closed = await venue.place(market("sell", "0.01", reduce_only=True, client_id="perp-3"))
        assert closed.status == "filled"
        fills = await venue.fetch_fills_since(PERP, None)
        assert [(f.side, f.price, f.quantity, f.fee_asset) for f in fills] == [
            ("buy", Decimal("50000"), Decimal("0.01"), "USDT"),
            ("sell", Decimal("51000"), Decimal("0.01"), "USDT"),
        ]
        found = await venue.fetch_order_by_client_id(PERP, "perp-3")
        assert found is not None and found.venue_order_id == closed.venue_order_id
        futures = (await standin_venue.control("state"))["fapi"]
        assert Decimal(futures["positions"]["BTCUSDT"]["amt"]) == 0
        assert (futures["leverage"], futures["margin_type"]) == ({"BTCUSDT": 5}, {"BTCUSDT": "ISOLATED"})
        assert futures["changes"] == {"leverage": 1, "margin_type": 1, "position_mode": 0}
        # PnL 0.01 × 1000 = 10, commission 0.0004 × (500 + 510) = 0.404
        assert Decimal(futures["wallet"]) == Decimal("10009.596")
    finally:
        await venue.close()
