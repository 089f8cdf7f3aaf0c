"""Hedge position mode, pure rules: position_side against the mode, closing orders trimmed to their
named side (less what other open orders already close), a closing fill stopping at flat, and the
long and the short of one symbol margined and settled each on its own, worked by hand."""

from __future__ import annotations

from decimal import Decimal as Dec

from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.hedge import (
    closes,
    hedge_close,
    hedge_fill_quantity,
    position_side_problems,
)
from tradeloom.order_router.domain.perps import PerpPosition, PerpTerms, apply_fill
from tradeloom.order_router.perp_orders import hedge_problems
from tradeloom.shared.contracts.orders import OrderSubmit

ONE = Dec(1)


def order(
    side: str, quantity: str, position_side: str | None = None, *, reduce_only: bool = False
) -> OrderSubmit:
    return OrderSubmit.model_validate(
        {
            "account_id": "a",
            "symbol": "BTC/USDT:USDT",
            "side": side,
            "type": "market",
            "quantity": quantity,
            "position_side": position_side,
            "reduce_only": reduce_only,
        }
    )


def test_which_orders_close_which_side() -> None:
    assert (closes("buy", "long"), closes("sell", "long")) == (False, True)
    assert (closes("sell", "short"), closes("buy", "short")) == (False, True)


def test_position_side_required_in_hedge_mode_and_refused_in_one_way() -> None:
    missing = position_side_problems("hedge", order("buy", "1"))
    assert [(p.field, p.rule) for p in missing] == [("position_side", "required")]
    extra = position_side_problems("one_way", order("buy", "1", "long"))
    assert [(p.field, p.rule) for p in extra] == [("position_side", "not_hedge_mode")]
    assert position_side_problems("hedge", order("sell", "1", "short")) == []
    assert position_side_problems("one_way", order("sell", "1")) == []


def test_hedge_mode_on_exchange_accounts_only_where_ccxt_sets_the_venues_position_mode() -> None:
    terms = PerpTerms(ONE, Dec(10), "USDT", position_mode="hedge")
    refused = hedge_problems("exchange", terms, order("buy", "1", "long"))
    assert [(p.field, p.rule) for p in refused] == [("position_mode", "unsupported_on_venue")]
    assert hedge_problems("exchange", terms, order("buy", "1", "long"), venue_hedge=True) == []
    missing = hedge_problems("exchange", terms, order("buy", "1"), venue_hedge=True)
    assert [(p.field, p.rule) for p in missing] == [("position_side", "required")]
    assert hedge_problems("paper", terms, order("buy", "1", "long")) == []


def test_opening_orders_pass_and_reduce_only_opening_is_refused() -> None:
    flat = PerpPosition()
    assert hedge_close(order("buy", "3", "long"), flat, Dec(0)) == (order("buy", "3", "long"), [])
    assert hedge_close(order("sell", "3", "short"), PerpPosition(Dec(-2), Dec(100), Dec(20)), Dec(0))[1] == []
    _, problems = hedge_close(
        order("buy", "1", "long", reduce_only=True), PerpPosition(ONE, Dec(100), Dec(10)), Dec(0)
    )
    assert [(p.field, p.rule) for p in problems] == [("reduce_only", "would_increase_position")]


def test_closing_orders_are_trimmed_to_their_side_less_other_closing_orders() -> None:
    short = PerpPosition(Dec(-5), Dec(100), Dec(50))
    trimmed, problems = hedge_close(order("buy", "8", "short", reduce_only=True), short, Dec(0))
    assert (trimmed.quantity, problems) == (Dec(5), [])
    trimmed, problems = hedge_close(order("buy", "4", "short"), short, Dec(3))  # 3 already closing
    assert (trimmed.quantity, problems) == (Dec(2), [])
    _, problems = hedge_close(order("buy", "1", "short"), short, Dec(5))
    assert [(p.field, p.rule) for p in problems] == [("position_side", "no_position")]
    _, problems = hedge_close(order("sell", "1", "long", reduce_only=True), PerpPosition(), Dec(0))
    assert [(p.field, p.rule) for p in problems] == [("reduce_only", "no_position")]


def test_a_closing_fill_stops_at_flat_and_one_way_fills_are_untouched() -> None:
    long = PerpPosition(Dec(2), Dec(100), Dec(20))
    assert hedge_fill_quantity(long, "long", "sell", Dec(3)) == Dec(2)
    assert hedge_fill_quantity(long, "long", "buy", Dec(3)) == Dec(3)  # opening: all of it
    assert hedge_fill_quantity(long, "", "sell", Dec(3)) == Dec(3)  # one-way: may flip


def test_long_and_short_side_by_side_margin_and_pnl_per_side() -> None:
    # 10×, contract size 1. Long 2 @ 100 (margin 20) and short 3 @ 100 (margin 30) at once.
    long = apply_fill(PerpPosition(), "buy", Dec(2), Dec(100), contract_size=ONE, leverage=Dec(10)).position
    short = apply_fill(PerpPosition(), "sell", Dec(3), Dec(100), contract_size=ONE, leverage=Dec(10)).position
    assert (long, short) == (
        PerpPosition(Dec(2), Dec(100), Dec(20)),
        PerpPosition(Dec(-3), Dec(100), Dec(30)),
    )
    # the short closed at 90: +30 realised, its 30 margin back; the long is untouched
    closed = apply_fill(short, "buy", Dec(3), Dec(90), contract_size=ONE, leverage=Dec(10))
    assert (closed.position.is_flat, closed.realised_pnl, closed.margin_released) == (True, Dec(30), Dec(30))
    # a closing order locks only its fee against its own side; an opening one locks margin too
    costs = AccountCosts(Dec("0.001"), Dec("0.001"), "none", Dec(0))
    terms = PerpTerms(ONE, Dec(10), "USDT", position=short, position_mode="hedge")
    assert terms.lock(order("buy", "3", "short"), Dec(100), costs, Dec(0)) == Dec("0.3")
    opening = PerpTerms(ONE, Dec(10), "USDT", position=long, position_mode="hedge")
    assert opening.lock(order("buy", "1", "long"), Dec(100), costs, Dec(0)) == Dec("10.1")
