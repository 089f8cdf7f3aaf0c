"""Fill rules: worked examples for every branch, and properties on random bars (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.quant.fills import (
    CommissionModel,
    Costs,
    OrderType,
    SizingMode,
    SlippageModel,
    affordable_quantity,
    commission,
    fillable_quantity,
    limit_fill_price,
    order_fill_price,
    slipped_price,
    stop_fill_price,
    target_quantity,
    trailing_stop_level,
)

BUY, SELL = 1, -1


@pytest.mark.parametrize(
    ("side", "level", "bar", "expected"),
    [
        (BUY, 99.0, (100.0, 101.0, 98.0), 99.0),  # touched inside the bar: at the level
        (BUY, 101.0, (100.0, 102.0, 99.0), 100.0),  # opened below the limit: at the open
        (BUY, 97.0, (100.0, 101.0, 98.0), math.nan),  # never reached
        (SELL, 101.0, (100.0, 102.0, 99.0), 101.0),
        (SELL, 99.0, (100.0, 102.0, 98.0), 100.0),
        (SELL, 103.0, (100.0, 102.0, 98.0), math.nan),
    ],
)
def test_limit_fills(side: int, level: float, bar: tuple[float, float, float], expected: float) -> None:
    got = limit_fill_price(side, level, *bar)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.parametrize(
    ("side", "level", "bar", "expected"),
    [
        (BUY, 101.0, (100.0, 102.0, 99.0), 101.0),
        (BUY, 99.0, (100.0, 102.0, 98.0), 100.0),  # gapped through the stop: at the open
        (BUY, 103.0, (100.0, 102.0, 99.0), math.nan),
        (SELL, 99.0, (100.0, 102.0, 98.0), 99.0),
        (SELL, 101.0, (100.0, 102.0, 98.0), 100.0),
        (SELL, 97.0, (100.0, 102.0, 98.0), math.nan),
    ],
)
def test_stop_fills(side: int, level: float, bar: tuple[float, float, float], expected: float) -> None:
    got = stop_fill_price(side, level, *bar)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


bar_strategy = st.tuples(st.floats(10, 1000), st.floats(0, 0.2), st.floats(0, 0.2)).map(
    lambda t: (t[0], t[0] * (1 + t[1]), t[0] * (1 - t[2]))
)


@settings(max_examples=200, deadline=None)
@given(bar_strategy, st.sampled_from([BUY, SELL]), st.floats(5, 1500), st.sampled_from(list(OrderType)))
def test_fills_stay_inside_the_bar_and_respect_the_level(
    bar: tuple[float, float, float], side: int, level: float, order_type: OrderType
) -> None:
    bar_open, high, low = bar
    price = order_fill_price(int(order_type), side, level, bar_open, high, low)
    if math.isnan(price):
        assert order_type != OrderType.MARKET
        return
    assert low <= price <= high
    if order_type == OrderType.LIMIT:  # never worse than the limit
        assert price <= level if side == BUY else price >= level
    if order_type == OrderType.STOP:  # triggered: the stop level was reached
        assert (high >= level) if side == BUY else (low <= level)


def test_slippage_models() -> None:
    fixed = Costs(slippage_model=SlippageModel.FIXED, slippage=0.05)
    assert slipped_price(fixed, BUY, 100.0, 1.0, 1e6) == 100.05
    assert slipped_price(fixed, SELL, 100.0, 1.0, 1e6) == 99.95
    pct = Costs(slippage_model=SlippageModel.PERCENT, slippage=0.001)
    assert slipped_price(pct, BUY, 200.0, 1.0, 1e6) == pytest.approx(200.2)
    assert slipped_price(pct, SELL, 200.0, 1.0, 1e6) == pytest.approx(199.8)
    volume = Costs(slippage_model=SlippageModel.VOLUME_SHARE, slippage=0.1, volume_cap=0.025)
    # zipline's worked numbers: 2.5 % of volume, impact 0.1 → 0.1 × 0.025² = 0.00625 % of price
    assert slipped_price(volume, BUY, 100.0, 25.0, 1000.0) == pytest.approx(100.00625)
    assert fillable_quantity(volume, 100.0, 1000.0) == 25.0
    assert fillable_quantity(pct, 100.0, 1000.0) == 100.0
    assert slipped_price(Costs(), BUY, 100.0, 5.0, 10.0) == 100.0


def test_commission_models() -> None:
    assert commission(Costs(), 1000.0, False, 0.0) == 0.0
    assert commission(Costs(commission_model=CommissionModel.FIXED, fixed_fee=1.5), 1000.0, True, 0.0) == 1.5
    pct = Costs(commission_model=CommissionModel.PERCENT, maker_rate=0.0002, taker_rate=0.001)
    assert commission(pct, 1000.0, True, 0.0) == pytest.approx(0.2)
    assert commission(pct, -1000.0, False, 0.0) == pytest.approx(1.0)
    tiers = Costs(
        commission_model=CommissionModel.TIERED,
        tier_thresholds=np.array([0.0, 10_000.0, 100_000.0]),
        tier_maker_rates=np.array([0.001, 0.0008, 0.0005]),
        tier_taker_rates=np.array([0.002, 0.0015, 0.001]),
    )
    assert commission(tiers, 1000.0, False, 0.0) == pytest.approx(2.0)
    assert commission(tiers, 1000.0, False, 10_000.0) == pytest.approx(1.5)
    assert commission(tiers, 1000.0, True, 500_000.0) == pytest.approx(0.5)


def test_sizing_modes() -> None:
    assert target_quantity(SizingMode.FIXED_QUANTITY, 3.0, 50.0, 1e4, math.nan, 1.0) == 3.0
    assert target_quantity(SizingMode.FIXED_CASH, 1000.0, 50.0, 1e4, math.nan, 1.0) == 20.0
    assert target_quantity(SizingMode.PERCENT_EQUITY, 0.5, 50.0, 1e4, math.nan, 1.0) == 100.0
    # 15 % target on a 30 % vol instrument: half the equity
    assert target_quantity(SizingMode.VOLATILITY_TARGET, 0.15, 50.0, 1e4, 0.30, 2.0) == pytest.approx(100.0)
    # 15 % target on a 5 % vol instrument would be 3× equity: capped at max leverage 2×
    assert target_quantity(SizingMode.VOLATILITY_TARGET, 0.15, 50.0, 1e4, 0.05, 2.0) == pytest.approx(400.0)
    assert target_quantity(SizingMode.VOLATILITY_TARGET, 0.15, 50.0, 1e4, math.nan, 2.0) == 0.0
    assert affordable_quantity(1e9, 10.0, 1000.0, 0.0, 0.0, True) == 100.0
    assert affordable_quantity(1e9, 10.0, 1000.0, 0.001, 0.0, True) == 99.0
    assert affordable_quantity(1e9, 10.0, 1000.0, 0.0, 5.0, False) == pytest.approx(99.5)
    assert affordable_quantity(2.5, 10.0, 1000.0, 0.0, 0.0, True) == 2.0


budgets = st.one_of(st.just(0.0), st.floats(1e-6, 1e7))


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e7), st.floats(0.01, 1e5), budgets, st.floats(0, 0.01), st.floats(0, 10),
       st.booleans())  # fmt: skip
def test_affordable_never_exceeds_budget(
    wanted: float, price: float, budget: float, rate: float, fixed: float, whole: bool
) -> None:
    qty = affordable_quantity(wanted, price, budget, rate, fixed, whole)
    assert 0.0 <= qty <= wanted
    if qty > 0:
        assert qty * price * (1 + rate) + fixed <= budget * (1 + 1e-12)
    if whole:
        assert qty == math.floor(qty)


@pytest.mark.parametrize(
    ("side", "extreme", "distance", "fraction", "expected"),
    [
        (SELL, 100.0, 2.0, math.nan, 98.0),  # sell stop 2 below the peak
        (SELL, 100.0, math.nan, 0.05, 95.0),  # or 5 % below it
        (BUY, 100.0, 2.0, math.nan, 102.0),  # buy stop above the trough
        (BUY, 80.0, math.nan, 0.25, 100.0),
    ],
)
def test_trailing_stop_level(
    side: int, extreme: float, distance: float, fraction: float, expected: float
) -> None:
    assert trailing_stop_level(side, extreme, distance, fraction) == pytest.approx(expected)
    # the level then triggers through the ordinary stop rule
    assert stop_fill_price(side, expected, expected, expected, expected) == pytest.approx(expected)
