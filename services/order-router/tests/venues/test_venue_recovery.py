"""Timeout after accept and venue restart, through real ccxt: found by client id, fills once."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
import pytest_asyncio

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import (
    ApplyFill,
    CcxtVenue,
    LocalOrder,
    MarkAccepted,
    PlaceOrder,
    UpdateStatus,
    gather_venue_view,
    reconcile,
)
from tradeloom.order_router.venues.errors import OutcomeUnknown

TIMEOUT_S = 5.0


@pytest_asyncio.fixture
async def venue(standin_venue: Any) -> AsyncIterator[CcxtVenue]:
    creds = ApiCredentials(standin_venue.api_key, standin_venue.secret)
    urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
    adapter = CcxtVenue(
        "binance", creds, timeout_s=TIMEOUT_S, api_urls=urls, options={"fetchMarkets": {"types": ["spot"]}}
    )
    try:
        yield adapter
    finally:
        await adapter.close()


def orders_with_client_id(state: dict[str, Any], client_id: str) -> list[dict[str, Any]]:
    return [o for o in state["orders"].values() if o["clientOrderId"] == client_id]


async def test_timeout_after_accept_is_found_and_not_sent_again(venue: CcxtVenue, standin_venue: Any) -> None:
    await venue.fetch_balances()  # markets loaded; the next call is the order itself
    await standin_venue.control("hang_next_order", seconds=TIMEOUT_S * 10)
    order = PlaceOrder("tl-hung-1", "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"))
    try:
        await venue.place(order)
        raise AssertionError("the stand-in should have hung past the client's timeout")
    except OutcomeUnknown as unknown:
        assert unknown.code == "outcome_unknown"
    found = await venue.fetch_order_by_client_id("BTC/USDT", "tl-hung-1")
    assert found is not None and found.status == "new"
    ours = [LocalOrder("tl-hung-1", "BTC/USDT", "pending_new")]
    view = await gather_venue_view(venue, ours, None)
    assert reconcile(ours, view, set()) == [MarkAccepted("tl-hung-1", view.orders["tl-hung-1"])]  # type: ignore[arg-type]
    assert len(orders_with_client_id(await standin_venue.control("state"), "tl-hung-1")) == 1


@pytest.mark.parametrize("hard", [True, False], ids=["sigkill", "restart-control"])
async def test_restart_keeps_orders_and_fills_and_reconcile_applies_fills_once(
    venue: CcxtVenue, standin_venue: Any, hard: bool
) -> None:
    first = await venue.place(
        PlaceOrder("tl-a", "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"))
    )
    await venue.place(PlaceOrder("tl-b", "ETH/USDT", "sell", "limit", Decimal("1"), Decimal("3500")))
    # the router "goes down" here; meanwhile the venue fills part of tl-a and restarts
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="tl-a", qty="0.004", price="39990")
    await standin_venue.restart(hard=hard)
    assert sorted(o.client_order_id or "" for o in await venue.fetch_open_orders()) == ["tl-a", "tl-b"]

    ours = [
        LocalOrder("tl-a", "BTC/USDT", "new", venue_order_id=first.venue_order_id),
        LocalOrder("tl-b", "ETH/USDT", "pending_new"),
    ]
    view = await gather_venue_view(venue, ours, None)
    actions = reconcile(ours, view, known_fill_ids=set())
    fills = [a for a in actions if isinstance(a, ApplyFill)]
    assert len(fills) == 1
    assert (fills[0].client_order_id, fills[0].fill.quantity, fills[0].fill.price) == (
        "tl-a", Decimal("0.004"), Decimal("39990"),
    )  # fmt: skip
    assert [a.client_order_id for a in actions if isinstance(a, MarkAccepted)] == ["tl-b"]
    assert [a for a in actions if isinstance(a, UpdateStatus)] == []  # the fill makes it partially_filled
    # applied; a second pass (e.g. after another reconnect) applies nothing twice
    applied = {f.fill.venue_fill_id for f in fills}
    ours = [
        LocalOrder("tl-a", "BTC/USDT", "partially_filled", first.venue_order_id, Decimal("0.004")),
        LocalOrder("tl-b", "ETH/USDT", "new", view.orders["tl-b"].venue_order_id),  # type: ignore[union-attr]
    ]
    again = reconcile(ours, await gather_venue_view(venue, ours, None), known_fill_ids=applied)
    assert again == []
