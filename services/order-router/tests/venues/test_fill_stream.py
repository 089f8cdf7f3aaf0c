"""Fills pushed over ccxt pro's websocket (Binance's user data stream) from the stand-in venue."""

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder
from tradeloom.order_router.venues.errors import VenueUnavailable

SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}
DEADLINE_S = 30.0


async def test_a_fill_is_pushed_and_a_dropped_socket_raises(standin_venue: Any) -> None:
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    venue = CcxtVenue("binance", creds, timeout_s=10.0, api_urls=urls, options=SPOT_ONLY)
    try:
        assert venue.supports_fill_stream
        placed = await venue.place(
            PlaceOrder("ws-1", "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"))
        )
        watching = asyncio.create_task(venue.watch_fills())
        async with asyncio.timeout(DEADLINE_S):  # subscribed once the venue counts a socket
            while not (await standin_venue.control("state")).get("user_streams"):
                await asyncio.sleep(0.05)
        trade = await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ws-1", qty="0.004")
        async with asyncio.timeout(DEADLINE_S):
            [fill] = await watching
        assert (fill.venue_fill_id, fill.venue_order_id) == (str(trade["id"]), placed.venue_order_id)
        assert (fill.price, fill.quantity, fill.side) == (Decimal("40000"), Decimal("0.004"), "buy")
        assert (fill.fee, fill.fee_asset, fill.is_maker) == (Decimal("0.000004"), "BTC", True)
        watching = asyncio.create_task(venue.watch_fills())
        await standin_venue.control("drop_user_streams")
        with pytest.raises(VenueUnavailable):
            async with asyncio.timeout(DEADLINE_S):
                await watching
    finally:
        await venue.close()
