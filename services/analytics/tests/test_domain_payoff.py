"""Payoff curves of a saved strategy and a leg's volatility implied from its quote, on a worked
example: a long straddle (call + put, K = 100, one year of 365.25 days, bought at 8 each), r = q = 0,
σ = 0.2, where Black-Scholes gives 7.965567455405798 for each at S = 100."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tradeloom.analytics.domain import options
from tradeloom.analytics.domain.option_marks import YEAR_S, SavedLeg
from tradeloom.analytics.domain.payoff import LegQuote, LegVol, leg_vols, payoff
from tradeloom.quant.options import black76, bsm

AS_OF = datetime(2030, 1, 1, tzinfo=UTC)
EXPIRY = AS_OF + timedelta(seconds=YEAR_S)
ATM = 7.965567455405798  # BSM call = put at S = K = 100, T = 1, r = q = 0, σ = 0.2
MARKET = options.Market(100.0, 0.0, 0.0, "bsm")


def straddle(volatility: float | None = 0.2) -> list[SavedLeg]:
    return [SavedLeg(kind, 1.0, 8.0, 100.0, EXPIRY, volatility) for kind in ("call", "put")]


def quote(bid: float | None, ask: float | None, kind: str = "call") -> LegQuote:
    record = {"symbol": f"BTC/USDT:USDT-301231-100-{kind[0].upper()}", "bid": bid, "ask": ask}
    return LegQuote(record, 100.0, "synthetic")


def test_straddle_payoff_at_expiry_and_today() -> None:
    legs = straddle()
    vols = leg_vols(MARKET, legs, [None, None], AS_OF)
    assert [(v.volatility, v.source) for v in vols] == [(0.2, "given"), (0.2, "given")]
    expiry, today = payoff(MARKET, legs, vols, np.array([80.0, 100.0, 120.0]), AS_OF)
    assert (expiry.label, expiry.at, today.label, today.at) == ("expiry", EXPIRY, "today", AS_OF)
    assert expiry.value.tolist() == [20.0, 0.0, 20.0]  # |S − K|: PnL 4, −16, 4 after the cost of 16
    assert today.value[1] == pytest.approx(2 * ATM, rel=1e-12)
    for n, spot in enumerate((80.0, 100.0, 120.0)):
        call, put = (float(bsm(kind, spot, 100.0, 1.0, 0.0, 0.0, 0.2).price) for kind in (True, False))
        assert today.value[n] == pytest.approx(call + put, rel=1e-12)
    assert today.value[0] > 20.0 and today.value[2] > 20.0  # time value on top of the intrinsic


def test_a_leg_without_volatility_is_implied_from_its_mid_quote() -> None:
    legs = [straddle(None)[0], straddle()[1]]
    got = leg_vols(MARKET, legs, [quote(ATM - 0.1, ATM + 0.1), None], AS_OF)
    assert got[0].source == "implied_from_quote" and got[0].volatility == pytest.approx(0.2, abs=1e-10)
    assert (got[0].quote_mid, got[0].quotes) == (pytest.approx(ATM, rel=1e-15), "synthetic")
    assert got[0].quote_symbol == "BTC/USDT:USDT-301231-100-C" and got[1].source == "given"
    _, today = payoff(MARKET, legs, got, np.array([100.0]), AS_OF)
    assert today.value[0] == pytest.approx(2 * ATM, rel=1e-9)


def test_black76_legs_imply_from_the_future_price() -> None:
    market = options.Market(100.0, 0.05, 0.0, "black76")
    price = float(black76(True, 100.0, 100.0, 1.0, 0.05, 0.2).price)  # e^(−0.05) × 7.9655...
    assert price == pytest.approx(ATM * np.exp(-0.05), rel=1e-12)
    [got] = leg_vols(market, straddle(None)[:1], [quote(price, price)], AS_OF)
    assert got.volatility == pytest.approx(0.2, abs=1e-10)


def test_no_volatility_says_why_and_leaves_out_the_curves_needing_it() -> None:
    legs = straddle(None)
    no_quote, one_sided = leg_vols(MARKET, legs, [None, quote(7.9, None, "put")], AS_OF)
    assert (no_quote.source, no_quote.volatility) == ("none", None) and "no quote" in str(no_quote.reason)
    assert one_sided.reason == "one-sided quote: no mid" and one_sided.quote_symbol.endswith("-P")  # type: ignore[union-attr]
    [above] = leg_vols(MARKET, legs[:1], [quote(120.0, 121.0)], AS_OF)  # a call above the spot
    assert above.volatility is None and "no-arbitrage" in str(above.reason) and above.quote_mid == 120.5
    [expiry_only] = payoff(MARKET, legs, [no_quote, one_sided], np.array([90.0]), AS_OF)
    assert expiry_only.label == "expiry" and expiry_only.value.tolist() == [10.0]  # today needs them
    # a leg expiring first needs no volatility at its expiry: a calendar's expiry curve remains
    later = SavedLeg("call", -1.0, 9.0, 100.0, EXPIRY + timedelta(days=30), 0.25)
    calendar = [legs[0], later]
    vols = [LegVol(None, "none", reason="no quote"), LegVol(0.25, "given")]
    [expiry] = payoff(MARKET, calendar, vols, np.array([100.0]), AS_OF)
    assert expiry.label == "expiry" and expiry.value[0] < 0  # the short call's time value remains
