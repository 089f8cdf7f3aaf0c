"""CcxtVenue through the real ccxt library against the stand-in Binance spot venue process."""

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import ccxt
import pytest
import pytest_asyncio

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues import CcxtVenue, PlaceOrder, is_supported, supported_venues
from tradeloom.order_router.venues.errors import (
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    VenueAuthFailed,
)
from tradeloom.shared.errors import ValidationFailed

TIMEOUT_S = 10.0
SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}


@pytest.fixture
def make_venue(standin_venue: Any) -> Callable[..., CcxtVenue]:
    def make(api_key: str | None = None, secret: str | None = None) -> CcxtVenue:
        creds = ApiCredentials(api_key or standin_venue.api_key, secret or standin_venue.secret)
        urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
        return CcxtVenue("binance", creds, timeout_s=TIMEOUT_S, api_urls=urls, options=SPOT_ONLY)

    return make


@pytest_asyncio.fixture
async def venue(make_venue: Callable[..., CcxtVenue]) -> AsyncIterator[CcxtVenue]:
    adapter = make_venue()
    try:
        yield adapter
    finally:
        await adapter.close()


def limit_buy(client_id: str, quantity: str = "0.01", price: str = "40000") -> PlaceOrder:
    return PlaceOrder(client_id, "BTC/USDT", "buy", "limit", Decimal(quantity), Decimal(price))


async def test_place_fetch_cancel_and_balances(venue: CcxtVenue) -> None:
    placed = await venue.place(limit_buy("tl-order-1"))
    assert (placed.client_order_id, placed.status, placed.quantity, placed.price) == (
        "tl-order-1", "new", Decimal("0.01"), Decimal("40000"),
    )  # fmt: skip
    balances = {b.asset: b for b in await venue.fetch_balances()}
    assert (balances["USDT"].free, balances["USDT"].locked) == (Decimal("9600"), Decimal("400"))
    assert [o.client_order_id for o in await venue.fetch_open_orders("BTC/USDT")] == ["tl-order-1"]
    found = await venue.fetch_order_by_client_id("BTC/USDT", "tl-order-1")
    assert found is not None and found.venue_order_id == placed.venue_order_id
    canceled = await venue.cancel("BTC/USDT", client_order_id="tl-order-1")
    assert canceled.status == "canceled"
    assert await venue.fetch_open_orders("BTC/USDT") == []
    balances = {b.asset: b for b in await venue.fetch_balances()}
    assert (balances["USDT"].free, balances["USDT"].locked) == (Decimal("10000"), Decimal("0"))
    assert await venue.fetch_order_by_client_id("BTC/USDT", "never-sent") is None


async def test_market_order_fills_and_my_trades(venue: CcxtVenue) -> None:
    placed = await venue.place(PlaceOrder("tl-mkt-1", "BTC/USDT", "buy", "market", Decimal("0.002")))
    assert (placed.status, placed.filled) == ("filled", Decimal("0.002"))
    fills = await venue.fetch_fills_since("BTC/USDT", None)
    assert len(fills) == 1
    fill = fills[0]
    assert (fill.venue_order_id, fill.side, fill.price, fill.quantity) == (
        placed.venue_order_id, "buy", Decimal("50000"), Decimal("0.002"),
    )  # fmt: skip
    assert (fill.fee, fill.fee_asset, fill.is_maker) == (Decimal("0.000002"), "BTC", False)
    balances = {b.asset: b.total for b in await venue.fetch_balances()}
    assert balances["USDT"] == Decimal("9900") and balances["BTC"] == Decimal("1.001998")


async def test_rejections_map_to_our_codes(venue: CcxtVenue, standin_venue: Any) -> None:
    await standin_venue.control("reject_next_order")
    with pytest.raises(InvalidOrder) as rejected:
        await venue.place(limit_buy("tl-rejected"))
    assert rejected.value.code == "invalid_order" and rejected.value.status == 422
    with pytest.raises(InsufficientFunds) as poor:
        await venue.place(limit_buy("tl-too-big", quantity="1", price="50000"))
    assert poor.value.code == "insufficient_funds"
    with pytest.raises(InvalidOrder):  # off the lot grid: LOT_SIZE filter
        await venue.place(limit_buy("tl-off-grid", quantity="0.000015"))
    assert await venue.fetch_open_orders("BTC/USDT") == []


@pytest.mark.parametrize("wrong", ["secret", "api_key"])
async def test_wrong_key_or_bad_signature_is_refused(
    make_venue: Callable[..., CcxtVenue], wrong: str
) -> None:
    adapter = make_venue(**{wrong: "not-the-right-value-0000"})
    try:
        with pytest.raises(VenueAuthFailed) as refused:
            await adapter.fetch_balances()
        assert refused.value.code == "venue_auth_failed"
        assert "not-the-right-value" not in refused.value.message
        check = await adapter.test_connection()
        assert (check.ok, check.error_code) == (False, "venue_auth_failed")
    finally:
        await adapter.close()


async def test_permissions_are_read_from_the_venue(venue: CcxtVenue, standin_venue: Any) -> None:
    permissions = await venue.fetch_permissions()
    assert (permissions.read, permissions.trade, permissions.withdraw) == (True, True, False)
    await standin_venue.control("set_permissions", withdraw=True)
    assert (await venue.fetch_permissions()).withdraw is True


async def test_test_connection_reports_answer_and_latency(venue: CcxtVenue) -> None:
    check = await venue.test_connection()
    assert check.ok and check.error_code is None
    assert check.latency_ms > 0
    assert "3 assets" in check.answer
    assert check.permissions is not None and check.permissions.trade is True


def test_supported_venues_come_from_ccxt() -> None:
    venues = supported_venues()
    assert "binance" in venues and len(venues) > 20
    assert all(venue in ccxt.exchanges for venue in venues)
    assert all(is_supported(venue) for venue in venues)
    assert not is_supported("no-such-exchange")


async def test_amend_keeps_the_client_id(venue: CcxtVenue) -> None:
    assert venue.supports_amend
    placed = await venue.place(limit_buy("tl-amend-1"))
    amended = await venue.amend(placed, price=Decimal("41000.5"), quantity=Decimal("0.02"))
    assert (amended.client_order_id, amended.price, amended.quantity, amended.status) == (
        "tl-amend-1", Decimal("41000.5"), Decimal("0.02"), "new",
    )  # fmt: skip
    open_orders = await venue.fetch_open_orders("BTC/USDT")
    assert [(o.venue_order_id, o.price) for o in open_orders] == [
        (amended.venue_order_id, Decimal("41000.5"))
    ]
    balances = {b.asset: b for b in await venue.fetch_balances()}
    assert balances["USDT"].locked == Decimal("820.01")


async def test_fills_are_paged_and_each_returned_once(
    make_venue: Callable[..., CcxtVenue], standin_venue: Any
) -> None:
    adapter = make_venue()
    adapter.fill_page_size = 2
    try:
        placed = await adapter.place(limit_buy("tl-many-fills", quantity="0.01"))
        for _ in range(5):
            await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="tl-many-fills", qty="0.001")
        fills = await adapter.fetch_fills_since("BTC/USDT", placed.timestamp_ms)
        assert len({f.venue_fill_id for f in fills}) == len(fills) == 5
        assert sum(f.quantity for f in fills) == Decimal("0.005")
        later = await adapter.fetch_fills_since("BTC/USDT", fills[3].timestamp_ms)
        assert [f.venue_fill_id for f in later] == [f.venue_fill_id for f in fills[3:]]
    finally:
        await adapter.close()


async def test_ioc_limit_without_liquidity_expires(venue: CcxtVenue) -> None:
    order = PlaceOrder("tl-ioc-1", "BTC/USDT", "buy", "limit", Decimal("0.01"), Decimal("40000"), "IOC")
    placed = await venue.place(order)
    assert (placed.status, placed.filled) == ("expired", Decimal("0"))
    assert {b.asset: b.locked for b in await venue.fetch_balances()}.get("USDT", Decimal(0)) == Decimal(0)


@pytest.mark.parametrize(
    ("kind", "price", "trigger", "venue_type"),
    [
        ("stop_limit", "44000", "45000", "STOP_LOSS_LIMIT"),
        ("stop_market", None, "45000", "STOP_LOSS"),
        ("take_profit_limit", "39000", "39500", "TAKE_PROFIT_LIMIT"),
        ("take_profit_market", None, "39500", "TAKE_PROFIT"),
    ],
)
async def test_conditional_orders_rest_with_their_trigger(
    venue: CcxtVenue, standin_venue: Any, kind: Any, price: str | None, trigger: str, venue_type: str
) -> None:
    order = PlaceOrder(
        f"tl-{kind}", "BTC/USDT", "buy", kind, Decimal("0.01"),
        None if price is None else Decimal(price), trigger_price=Decimal(trigger),
    )  # fmt: skip
    placed = await venue.place(order)
    assert (placed.status, placed.trigger_price) == ("new", Decimal(trigger))
    assert placed.price == (None if price is None else Decimal(price))
    state = await standin_venue.control("state")
    assert [o["type"] for o in state["orders"].values()] == [venue_type]


async def test_conditional_order_without_trigger_names_the_field(venue: CcxtVenue) -> None:
    with pytest.raises(ValidationFailed) as missing:
        await venue.place(PlaceOrder("tl-stop-x", "BTC/USDT", "buy", "stop_market", Decimal("0.01")))
    assert missing.value.details["fields"][0]["field"] == "trigger_price"


async def test_second_send_of_an_open_client_id_is_a_duplicate(venue: CcxtVenue, standin_venue: Any) -> None:
    await venue.place(limit_buy("tl-twice"))
    with pytest.raises(DuplicateClientOrderId) as duplicate:
        await venue.place(limit_buy("tl-twice"))
    assert duplicate.value.code == "duplicate_client_order_id"
    state = await standin_venue.control("state")
    assert [o["clientOrderId"] for o in state["orders"].values()] == ["tl-twice"]
