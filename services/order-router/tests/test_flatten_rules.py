"""The pure rules of a flatten: what each kind of position's close order does, what is left, and
the close order's client id."""

import re
from decimal import Decimal

import pytest

from tradeloom.order_router.domain.flatten_plan import Close, Holding, Plan, plan_close
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.flatten import close_client_id, close_lock
from tradeloom.order_router.flatten_holdings import on_tick
from tradeloom.shared.contracts.orders_common import CLIENT_ORDER_ID_PATTERN

D = Decimal
LOT = D("0.001")


def spot(net: str, free: str = "10", price: str | None = "100", min_notional: str | None = "5") -> Holding:
    return Holding(
        "BTC/USDT",
        "spot",
        D(net),
        LOT,
        free=D(free),
        price=None if price is None else D(price),
        min_notional=None if min_notional is None else D(min_notional),
    )


@pytest.mark.parametrize(
    ("holding", "expected"),
    [
        # a spot long: the fold sold, at most what is free, in whole lots, reduce-only
        (spot("0.5"), Plan("BTC/USDT", Close("sell", D("0.5"), reduce_only=True))),
        (spot("0.5", free="0.3"), Plan("BTC/USDT", Close("sell", D("0.3"), True), D("0.2"), "not_free")),
        (spot("0.5004"), Plan("BTC/USDT", Close("sell", D("0.5"), True), D("0.0004"), "below_min_quantity")),
        (spot("0.0004"), Plan("BTC/USDT", None, D("0.0004"), "below_min_quantity")),
        # dust under the minimum notional (0.04 × 100 = 4 < 5): reported, not sent to fail
        (spot("0.04"), Plan("BTC/USDT", None, D("0.04"), "below_min_notional")),
        (spot("0.04", min_notional=None), Plan("BTC/USDT", Close("sell", D("0.04"), True))),
        # a spot short: bought back (a plain buy), which needs a price for its lock
        (spot("-0.2"), Plan("BTC/USDT", Close("buy", D("0.2"), reduce_only=False))),
        (spot("-0.2", price=None), Plan("BTC/USDT", None, D("0.2"), "no_market_price")),
        # a sell with no price is sent (the matcher fills it at the next trade, as before)
        (spot("0.2", price=None), Plan("BTC/USDT", Close("sell", D("0.2"), True))),
    ],
)
def test_spot_closes(holding: Holding, expected: Plan) -> None:
    assert plan_close(holding) == expected


def test_perp_closes_either_side_reduce_only_even_below_min_notional() -> None:
    long = Holding("BTC/USDT:USDT", "perp", D(3), D(1), price=D(100), min_notional=D(1000))
    short = Holding("BTC/USDT:USDT", "perp", D(-2), D(1), price=D(100))
    assert plan_close(long) == Plan("BTC/USDT:USDT", Close("sell", D(3), reduce_only=True))
    assert plan_close(short) == Plan("BTC/USDT:USDT", Close("buy", D(2), reduce_only=True))
    unpriced = Holding("BTC/USDT:USDT", "perp", D(-2), D(1))
    assert plan_close(unpriced) == Plan("BTC/USDT:USDT", None, D(2), "no_market_price")


def test_long_options_sell_at_the_bid_and_short_ones_cannot_exist() -> None:
    call = "BTC/USDT:USDT-270129-65000-C"
    held = Holding(call, "option", D("0.1"), D("0.01"), free=D("0.1"), price=D(118))
    assert plan_close(held) == Plan(call, Close("sell", D("0.1"), reduce_only=True))
    no_bid = Holding(call, "option", D("0.1"), D("0.01"), free=D("0.1"))
    assert plan_close(no_bid) == Plan(call, None, D("0.1"), "no_option_quote")
    assert plan_close(Holding(call, "option", D("-0.1"), D("0.01"))) is None
    assert plan_close(spot("0")) is None


class Assets:
    base_asset, quote_asset, settle_asset = "BTC", "USDT", "USDT"


def test_close_locks() -> None:
    costs = AccountCosts(D("0.0005"), D("0.001"), "percent", D("0.01"))
    buffer = D("0.05")
    assert close_lock(spot("0.5"), Close("sell", D("0.5"), True), costs, buffer, Assets) == ("BTC", D("0.5"))
    # buy back 0.2 at 100 × 1.05 × 1.01 (slippage) = 106.05, plus the 0.1 % taker fee
    asset, lock = close_lock(spot("-0.2"), Close("buy", D("0.2"), False), costs, buffer, Assets)
    assert (asset, lock) == ("USDT", D("21.23121"))
    # a perp close locks only its worst fee: 3 × 106.05 × 0.001
    perp = Holding("BTC/USDT:USDT", "perp", D(-3), D(1), price=D(100))
    asset, lock = close_lock(perp, Close("buy", D(3), True), costs, buffer, Assets)
    assert (asset, lock) == ("USDT", D("0.31815"))


def test_close_ids_are_deterministic_per_event_and_symbol() -> None:
    first = close_client_id("0190f0a0-0000-7000-8000-000000000001", "BTC/USDT")
    assert first == close_client_id("0190f0a0-0000-7000-8000-000000000001", "BTC/USDT")
    assert first != close_client_id("0190f0a0-0000-7000-8000-000000000002", "BTC/USDT")
    assert first != close_client_id("0190f0a0-0000-7000-8000-000000000001", "ETH/USDT")
    assert first != close_client_id("0190f0a0-0000-7000-8000-000000000001", "BTC/USDT:USDT")
    assert re.fullmatch(CLIENT_ORDER_ID_PATTERN, first) and len(first) <= 64 and first.startswith("flat-")


def test_a_venue_bid_is_floored_to_the_tick_and_under_one_tick_is_no_price() -> None:
    assert on_tick(Decimal("1607"), Decimal(5)) == Decimal(1605)
    assert on_tick(Decimal("1605"), Decimal(5)) == Decimal(1605)
    assert on_tick(Decimal("1607"), None) == Decimal(1607)  # no registry entry: the venue's own
    assert on_tick(Decimal("4"), Decimal(5)) is None
    assert on_tick(None, Decimal(5)) is None
