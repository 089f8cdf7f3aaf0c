"""Paper perpetuals maths (margin, open/close/flip, realised PnL, reduce-only), worked by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as Dec

from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.perps import (
    PerpPosition,
    PerpTerms,
    apply_fill,
    funding_payment,
    initial_margin,
    order_lock,
    reduce_only_quantity,
)
from tradeloom.shared.contracts.orders import OrderSubmit


def test_margin_is_notional_over_leverage_times_contract_size() -> None:
    # 2 contracts × 50,000 × 0.001 BTC = 100 USDT notional; 10× → 10 USDT margin.
    assert initial_margin(Dec("2"), Dec("50000"), Dec("0.001"), Dec("10")) == Dec("10")
    # the order also locks its worst fee: 100 × 0.1 % = 0.1
    assert order_lock(Dec("2"), Dec("50000"), Dec("0.001"), Dec("10"), Dec("0.001")) == Dec("10.1")


def test_open_long_then_add_averages_entry_and_margin() -> None:
    first = apply_fill(PerpPosition(), "buy", Dec("1"), Dec("100"), contract_size=Dec("1"), leverage=Dec("5"))
    assert first.position == PerpPosition(Dec("1"), Dec("100"), Dec("20"))
    assert (first.realised_pnl, first.margin_released, first.margin_added) == (Dec(0), Dec(0), Dec("20"))
    second = apply_fill(
        first.position, "buy", Dec("1"), Dec("110"), contract_size=Dec("1"), leverage=Dec("5")
    )
    # entry (100 + 110) / 2 = 105; margin 20 + 22
    assert second.position == PerpPosition(Dec("2"), Dec("105"), Dec("42"))


def test_short_without_borrowing_and_partial_close_realises_pnl() -> None:
    short = apply_fill(
        PerpPosition(), "sell", Dec("4"), Dec("200"), contract_size=Dec("1"), leverage=Dec("4")
    ).position
    assert short == PerpPosition(Dec("-4"), Dec("200"), Dec("200"))
    cover = apply_fill(short, "buy", Dec("1"), Dec("180"), contract_size=Dec("1"), leverage=Dec("4"))
    # a short gains when price falls: 1 × (200 − 180) = 20; a quarter of the margin comes back
    assert cover.realised_pnl == Dec("20")
    assert cover.margin_released == Dec("50")
    assert cover.position == PerpPosition(Dec("-3"), Dec("200"), Dec("150"))


def test_close_more_than_position_flips_to_the_other_side() -> None:
    long = PerpPosition(Dec("2"), Dec("100"), Dec("40"))
    flip = apply_fill(long, "sell", Dec("3"), Dec("90"), contract_size=Dec("1"), leverage=Dec("5"))
    assert flip.realised_pnl == Dec("-20")  # 2 × (90 − 100)
    assert flip.margin_released == Dec("40")
    assert flip.margin_added == Dec("18")  # 1 × 90 / 5
    assert flip.position == PerpPosition(Dec("-1"), Dec("90"), Dec("18"))


def test_full_close_is_flat() -> None:
    done = apply_fill(
        PerpPosition(Dec("1"), Dec("100"), Dec("10")),
        "sell",
        Dec("1"),
        Dec("130"),
        contract_size=Dec("2"),
        leverage=Dec("10"),
    )
    assert done.position.is_flat
    assert done.realised_pnl == Dec("60")  # 1 × 30 × contract size 2
    assert done.position == PerpPosition()


def test_reduce_only_caps_at_the_opposite_position() -> None:
    long = PerpPosition(Dec("2"), Dec("100"), Dec("40"))
    assert reduce_only_quantity(long, "sell", Dec("5")) == Dec("2")
    assert reduce_only_quantity(long, "sell", Dec("1")) == Dec("1")
    assert reduce_only_quantity(long, "buy", Dec("1")) == Dec(0)
    assert reduce_only_quantity(PerpPosition(), "sell", Dec("1")) == Dec(0)


def test_funding_long_pays_short_receives_when_the_rate_is_positive() -> None:
    # 2 contracts × 0.5 BTC at mark 40,000 = 40,000 notional; 0.01 % → 4
    assert funding_payment(Dec("2"), Dec("40000"), Dec("0.5"), Dec("0.0001")) == Dec("-4")
    assert funding_payment(Dec("-2"), Dec("40000"), Dec("0.5"), Dec("0.0001")) == Dec("4")
    assert funding_payment(Dec("2"), Dec("40000"), Dec("0.5"), Dec("-0.0001")) == Dec("4")


def test_lock_is_margin_plus_fee_and_a_close_locks_only_its_fee() -> None:
    costs = AccountCosts(maker_rate=Dec("0.001"), taker_rate=Dec("0.001"))
    order = OrderSubmit.model_validate(
        {"account_id": "a", "symbol": "BTC/USDT:USDT", "side": "sell", "type": "market", "quantity": "2"}
    )
    flat = PerpTerms(contract_size=Dec(1), leverage=Dec(10), settle="USDT")
    # market: priced at last 100 + 5 % buffer = 105 → notional 210; margin 21 + fee 0.21
    assert flat.lock(order, Dec(100), costs, Dec("0.05")) == Dec("21.21")
    long = replace(flat, position=PerpPosition(Dec(2), Dec(90), Dec(18)))
    assert long.lock(order, Dec(100), costs, Dec("0.05")) == Dec("0.21")  # closes: the fee only
    half = replace(flat, position=PerpPosition(Dec(1), Dec(90), Dec(9)))
    assert half.lock(order, Dec(100), costs, Dec("0.05")) == Dec("10.71")  # 1 opens: 10.5 + 0.21
