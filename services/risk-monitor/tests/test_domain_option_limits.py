"""Option Greeks limits (pure), hand-worked: S = K = 100, one year, rate and yield 0, volatility 20 %
(no quote: the model volatility). d1 = (0 + 0.02) / 0.2 = 0.1, so a call's delta is N(0.1) = 0.539828,
a put's N(0.1) − 1 = −0.460172, and either's vega S·φ(0.1)·√T / 100 = 0.396953 per volatility point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeloom.risk_monitor.domain.option_limits import (
    NetGreeks,
    OptionLeg,
    greek_refusals,
    net_greeks,
    underlying_of,
)
from tradeloom.risk_monitor.domain.perps import is_perpetual


def leg(quantity: float, is_call: bool = True) -> OptionLeg:
    return OptionLeg(is_call, 100.0, 1.0, quantity, None, None, 0.2)


def test_underlying_of_an_option_symbol_only() -> None:
    assert underlying_of("BTC/USDT:USDT-271206-65000-C") == "BTC/USDT"
    assert underlying_of("BTC/USDT:USDT") is None
    assert underlying_of("BTC/USDT") is None


def test_two_calls_and_a_short_unit_of_the_underlying() -> None:
    """2 calls: delta 2 × 0.539828 − 1 = 0.079656; vega 2 × 0.396953 = 0.793906."""
    greeks = net_greeks([leg(2)], -1.0, 100.0)
    assert greeks.delta == pytest.approx(0.079656, abs=1e-6)
    assert greeks.vega == pytest.approx(0.793906, abs=1e-6)


def test_buying_three_more_calls_crosses_the_delta_limit_not_the_vega_one() -> None:
    """+3 calls: delta 0.079656 + 1.619484 = 1.699140 > 1.5; vega 5 × 0.396953 = 1.984765 ≤ 2."""
    before = net_greeks([leg(2)], -1.0, 100.0)
    after = net_greeks([leg(2), leg(3)], -1.0, 100.0)
    assert after.delta == pytest.approx(1.699140, abs=1e-6)
    assert greek_refusals(before, after, Decimal("1.5"), Decimal(2)) == [
        "max_net_delta_exceeded: net 1.6991 > 1.5"
    ]
    assert greek_refusals(before, after, None, Decimal("1.9")) == ["max_net_vega_exceeded: net 1.9848 > 1.9"]


def test_an_order_bringing_a_greek_closer_to_zero_passes_even_above_the_limit() -> None:
    """Over the limit at 2.159312 (4 calls); a put takes 0.460172 off: 1.699140 is still > 1.5 but lower."""
    before = net_greeks([leg(4)], 0.0, 100.0)
    after = net_greeks([leg(4), leg(1, is_call=False)], 0.0, 100.0)
    assert before.delta == pytest.approx(2.159312, abs=1e-6)
    assert after.delta == pytest.approx(1.699140, abs=1e-6)
    assert greek_refusals(before, after, Decimal("1.5"), None) == []
    assert greek_refusals(NetGreeks(0, 0), NetGreeks(-1.6, 0), Decimal("1.5"), None) == [
        "max_net_delta_exceeded: net 1.6000 > 1.5"
    ]


def test_an_option_is_not_a_perpetual() -> None:
    assert is_perpetual("BTC/USDT:USDT") is True
    assert is_perpetual("BTC/USDT:USDT-271206-65000-C") is False
