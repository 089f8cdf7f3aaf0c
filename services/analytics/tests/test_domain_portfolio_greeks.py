"""Portfolio Greeks on a hand-worked two-leg example: a long ATM straddle (1 call + 1 put, S = K = 100,
T = 1 year, r = q = 0, σ = 20 %) and 0.5 of the underlying.

d1 = (ln(S/K) + σ²T/2) / (σ√T) = 0.1, d2 = −0.1; N(0.1) = 0.5398278, φ(0.1) = 0.3969525.
Call price = S·N(d1) − K·N(d2) = 100 · (0.5398278 − 0.4601722) = 7.965567 = the put's (parity, ATM).
Delta: call 0.5398278, put −0.4601722; straddle 0.0796556; + 0.5 held → 0.5796556.
Gamma each φ(d1)/(Sσ√T) = 0.01984763 → 0.03969525. Vega each S·φ(d1)·√T/100 = 0.3969525 → 0.7939051.
Theta each −S·φ(d1)·σ/(2√T) = −3.969525 a year → two legs −7.939051 / 365 = −0.02175082 a day.
"""

from __future__ import annotations

import pytest

from tradeloom.analytics.domain.portfolio_greeks import HeldOption, mid_of, portfolio_greeks

PRICE = 7.965567455405804  # BSM at σ = 0.2 (the figures above)


def held(
    symbol: str, is_call: bool, bid: float | None, ask: float | None, quantity: float = 1.0
) -> HeldOption:
    return HeldOption(
        symbol, "BTC/USDT", is_call, 100.0, 1.0, quantity, 100.0, bid, ask, model_volatility=0.5
    )


def test_two_leg_straddle_and_underlying_by_hand() -> None:
    legs = [held("C", True, PRICE - 0.5, PRICE + 0.5), held("P", False, PRICE - 0.25, PRICE + 0.25)]
    [row] = portfolio_greeks(legs, {"BTC/USDT": 0.5, "ETH/USDT": 2.0}, {"BTC/USDT": 100.0})
    assert [leg.volatility for leg in row.legs] == pytest.approx([0.2, 0.2], abs=1e-10)
    assert row.legs[0].delta == pytest.approx(0.5398278, abs=1e-7)
    assert row.legs[1].delta == pytest.approx(-0.4601722, abs=1e-7)
    assert row.delta == pytest.approx(0.5796556, abs=1e-7)
    assert row.gamma == pytest.approx(0.03969525, abs=1e-8)
    assert row.vega == pytest.approx(0.7939051, abs=1e-7)
    assert row.theta_day == pytest.approx(-0.02175082, abs=1e-8)
    assert (row.underlying_quantity, row.delta_value) == (0.5, pytest.approx(57.96556, abs=1e-5))


def test_quantity_scales_and_no_solution_falls_back_to_the_model_volatility() -> None:
    [one] = portfolio_greeks([held("C", True, PRICE, PRICE)], {}, {})
    [three] = portfolio_greeks([held("C", True, PRICE, PRICE, quantity=3.0)], {}, {})
    assert three.vega == pytest.approx(3 * one.vega, rel=1e-12)
    [bad] = portfolio_greeks([held("C", True, None, 150.0)], {}, {})  # above the spot: no volatility
    assert bad.legs[0].volatility == 0.5 and bad.legs[0].mid == 150.0
    assert (mid_of(None, None), mid_of(1.0, None), mid_of(1.0, 2.0)) == (None, 1.0, 1.5)
