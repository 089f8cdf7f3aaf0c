"""Validation, locking and paper matching rules: worked examples (pure, no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts, required_lock, settle_fill
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match
from tradeloom.order_router.domain.validation import validate_order
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit

D = Decimal
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BTC = Instrument(venue="sim", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
                 tick_size=D("0.5"), lot_size=D("0.01"), min_notional=D(10))  # fmt: skip
COSTS = AccountCosts(maker_rate=D("0.001"), taker_rate=D("0.002"))
FREE = {"USDT": D(1000), "BTC": D(1)}


LAST = D(100)
ORDER = {
    "account_id": "a",
    "symbol": "BTC/USDT",
    "side": "buy",
    "type": "limit",
    "quantity": "1",
    "price": "100",
}


def check(
    instrument: Instrument | None = BTC, last: Decimal | None = LAST, **fields: Any
) -> list[tuple[str, str]]:
    order = OrderSubmit.model_validate({**ORDER, **fields})
    problems, _ = validate_order(
        order, instrument, last_price=last, free=FREE, costs=COSTS, market_buffer=D("0.05"), now=NOW
    )
    return [(p.field, p.rule) for p in problems]


@pytest.mark.parametrize(
    ("fields", "instrument", "expected"),
    [
        ({}, BTC, []),
        ({}, None, [("symbol", "unknown_symbol")]),
        ({}, BTC.model_copy(update={"status": "inactive"}), [("symbol", "not_trading")]),
        ({"price": "100.3"}, BTC, [("price", "off_tick")]),
        ({"quantity": "1.015"}, BTC, [("quantity", "off_lot")]),
        (
            {"quantity": "0.001"},
            BTC,
            [("quantity", "below_min_quantity"), ("quantity", "below_min_notional")],
        ),
        ({"quantity": "0.05"}, BTC, [("quantity", "below_min_notional")]),
        ({"quantity": "20"}, BTC, [("quantity", "insufficient_funds")]),
        ({"side": "sell", "quantity": "2"}, BTC, [("quantity", "insufficient_funds")]),
        ({"type": "market"}, BTC, [("price", "not_allowed")]),
        ({"type": "stop_limit"}, BTC, [("stop_price", "required")]),
        ({"type": "trailing_stop", "price": None}, BTC, [("trailing_amount", "one_of")]),
        ({"time_in_force": "gtd"}, BTC, [("expire_at", "required")]),
        ({"time_in_force": "gtd", "expire_at": NOW - timedelta(seconds=1)}, BTC, [("expire_at", "in_past")]),
        ({"post_only": True, "price": "101"}, BTC, [("price", "would_take")]),
    ],
)
def test_validation_names_field_and_rule(
    fields: dict[str, Any], instrument: Instrument | None, expected: list[tuple[str, str]]
) -> None:
    assert check(instrument, **fields) == expected


def test_a_market_order_needs_a_price_seen() -> None:
    assert check(last=None, type="market", price=None) == [("symbol", "no_market_price")]


def test_locks() -> None:
    limit = OrderSubmit(
        account_id="a", symbol="BTC/USDT", side="buy", type="limit", quantity=D(2), price=D(100)
    )
    assert required_lock(limit, D(90), COSTS, D("0.05")) == D("200.4")  # price × qty × (1 + max fee)
    market = limit.model_copy(update={"type": "market", "price": None})
    assert required_lock(market, D(100), COSTS, D("0.05")) == D("210.42")  # 105 × 2 × 1.002
    sell = limit.model_copy(update={"side": "sell"})
    assert required_lock(sell, D(100), COSTS, D("0.05")) == D(2)
    assert settle_fill("buy", D(100), D(2), D("0.2")).lock_spent == D("200.2")
    assert settle_fill("sell", D(100), D(2), D("0.2")).quote_free == D("199.8")


def order(**fields: Any) -> PaperOrder:
    base = PaperOrder(side="buy", type="limit", status=states.NEW, quantity=D(1), filled_quantity=D(0),
                      locked=D("100.1"), time_in_force="gtc", accepted_ns=10, price=D(100))  # fmt: skip
    return replace(base, **fields)


def test_limit_fills_when_a_trade_crosses_limited_by_its_size() -> None:
    assert match(order(), Trade(D(101), D(5), 11), COSTS, D("0.01")) is None
    assert match(order(), Trade(D(99), D(5), 9), COSTS, D("0.01")) is None  # before acceptance
    outcome = match(order(), Trade(D(100), D("0.4"), 11), COSTS, D("0.01"))
    assert outcome is not None and outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.quantity, outcome.fill.fee, outcome.fill.liquidity) == (
        D(100), D("0.4"), D("0.04"), "maker",
    )  # fmt: skip
    assert outcome.statuses == (states.PARTIALLY_FILLED,) and outcome.order.locked == D("100.1") - D("40.04")
    rest = match(outcome.order, Trade(D(99), D(3), 12), COSTS, D("0.01"))
    assert rest is not None and rest.fill is not None and rest.statuses == (states.FILLED,)
    assert rest.fill.price == D(99)  # a one-price bar below the limit: the trade price (simulator rule)


def test_market_fills_at_the_next_trade_plus_slippage_as_taker() -> None:
    costs = AccountCosts(
        maker_rate=D("0.001"), taker_rate=D("0.002"), slippage_model="fixed", slippage=D("0.5")
    )
    outcome = match(
        order(type="market", price=None, locked=D(200)), Trade(D(100), D(3), 11), costs, D("0.01")
    )
    assert outcome is not None and outcome.fill is not None
    assert (outcome.fill.price, outcome.fill.fee, outcome.fill.liquidity) == (D("100.5"), D("0.201"), "taker")


def test_stop_take_profit_and_trailing_trigger_on_trades() -> None:
    stop = order(side="sell", type="stop_market", price=None, stop_price=D(95), locked=D(1))
    assert match(stop, Trade(D(96), D(1), 11), COSTS, D("0.01")) is None
    hit = match(stop, Trade(D(95), D(1), 11), COSTS, D("0.01"))
    assert hit is not None and hit.order.triggered and hit.statuses == (states.FILLED,)
    take = order(side="sell", type="take_profit_limit", price=D(110), stop_price=D(110), locked=D(1))
    assert match(take, Trade(D(109), D(1), 11), COSTS, D("0.01")) is None
    assert match(take, Trade(D(111), D(1), 11), COSTS, D("0.01")).statuses == (states.FILLED,)  # type: ignore[union-attr]
    trail = order(side="sell", type="trailing_stop", price=None, trailing_amount=D(2), locked=D(1))
    up = match(trail, Trade(D(100), D(1), 11), COSTS, D("0.01"))
    assert up is not None and up.fill is None and up.order.trail_extreme == D(100)
    higher = match(up.order, Trade(D(105), D(1), 12), COSTS, D("0.01"))
    assert higher is not None and higher.order.trail_extreme == D(105)
    assert match(higher.order, Trade(D(104), D(1), 13), COSTS, D("0.01")) is None
    fired = match(higher.order, Trade(D(103), D(1), 14), COSTS, D("0.01"))
    assert fired is not None and fired.fill is not None and fired.fill.price == D(103)


def test_ioc_fok_and_gtd() -> None:
    ioc = match(order(time_in_force="ioc"), Trade(D(100), D("0.3"), 11), COSTS, D("0.01"))
    assert ioc is not None and ioc.fill is not None and ioc.fill.quantity == D("0.3")
    assert ioc.statuses == (states.PARTIALLY_FILLED, states.EXPIRED)
    missed = match(order(time_in_force="ioc"), Trade(D(101), D(1), 11), COSTS, D("0.01"))
    assert missed is not None and missed.fill is None and missed.statuses == (states.EXPIRED,)
    fok = match(order(time_in_force="fok"), Trade(D(100), D("0.3"), 11), COSTS, D("0.01"))
    assert fok is not None and fok.fill is None and fok.reason == "fok_not_filled"
    gtd = match(order(expire_ns=11), Trade(D(100), D(1), 11), COSTS, D("0.01"))
    assert gtd is not None and gtd.statuses == (states.EXPIRED,) and gtd.fill is None


def test_a_market_buy_never_spends_more_than_its_lock() -> None:
    outcome = match(order(type="market", price=None, locked=D(50)), Trade(D(100), D(5), 11), COSTS, D("0.01"))
    assert outcome is not None and outcome.fill is not None
    assert outcome.fill.quantity == D("0.49") and outcome.order.locked >= 0
