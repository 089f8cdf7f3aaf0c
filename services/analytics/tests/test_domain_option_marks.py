"""Valuation of a saved strategy by hand: time to expiry from the price's time, an expired leg at its
intrinsic value, the underlying leg at the price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeloom.analytics.domain import options
from tradeloom.analytics.domain.option_marks import YEAR_S, SavedLeg, mark
from tradeloom.quant.options import bsm

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
MARKET = options.Market(100.0, 0.05, 0.0, "bsm")


def test_time_to_expiry_counts_from_the_price_time() -> None:
    expiry = NOW + timedelta(days=182.625)  # half a year of 365.25 days
    leg = SavedLeg("call", 2, 5.0, 100.0, expiry, 0.2)
    m = mark(MARKET, [leg], NOW)
    expected = bsm(True, 100.0, 100.0, 0.5, 0.05, 0.0, 0.2)
    assert m.value == pytest.approx(2 * float(expected.price), rel=1e-12)
    assert m.cost == 10.0 and m.pnl == pytest.approx(m.value - 10.0)
    assert m.greeks["delta"] == pytest.approx(2 * float(expected.delta), rel=1e-12)
    assert (expiry - NOW).total_seconds() / YEAR_S == pytest.approx(0.5)


def test_expired_leg_at_intrinsic_and_underlying_at_the_price() -> None:
    expired = SavedLeg("put", -1, 3.0, 110.0, NOW - timedelta(hours=1), 0.2)
    spot = SavedLeg("underlying", 1, 95.0)
    m = mark(MARKET, [expired, spot], NOW)
    assert m.legs[0].value == pytest.approx(-10.0) and m.legs[0].greeks["delta"] == 0.0
    assert m.legs[1].value == pytest.approx(100.0) and m.greeks["delta"] == 1.0
    assert m.value == pytest.approx(90.0) and m.cost == pytest.approx(92.0) and m.pnl == pytest.approx(-2.0)
