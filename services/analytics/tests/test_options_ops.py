"""Option ops on worked positions: a straddle bought at model prices (PnL 0 now; |S − K| − cost at
expiry), a bull call spread (loss capped at the debit, gain at width − debit), a covered call with
an underlying leg; IV batches with a no-solution item; Greeks equal tradeloom.quant's."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tradeloom.analytics.api_options import OptionsApi
from tradeloom.analytics.domain.options import expiry_label
from tradeloom.quant.options import bsm
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import GreeksRequest, IvRequest, StrategyRequest

ALICE = CallerContext(user_id="alice")
MARKET = {"spot": 100.0, "rate": 0.05, "dividend_yield": 0.0}


def model(kind: str, strike: float, t: float = 0.5, sigma: float = 0.2) -> float:
    return float(bsm(kind == "call", 100.0, strike, t, 0.05, 0.0, sigma).price)


async def test_straddle_bought_at_model_prices() -> None:
    call, put = model("call", 100), model("put", 100)
    legs = [
        {
            "type": "call",
            "quantity": 1,
            "entry_price": call,
            "strike": 100,
            "expiry_years": 0.5,
            "volatility": 0.2,
        },
        {
            "type": "put",
            "quantity": 1,
            "entry_price": put,
            "strike": 100,
            "expiry_years": 0.5,
            "volatility": 0.2,
        },
    ]
    body = StrategyRequest.model_validate(
        {**MARKET, "legs": legs, "range_low": 50, "range_high": 150, "points": 11, "horizons_years": [0.25]}
    )
    reply = await OptionsApi().strategy(ALICE, body)
    assert reply.value == pytest.approx(call + put, rel=1e-12) and reply.pnl == pytest.approx(0, abs=1e-9)
    expected = bsm([True, False], 100.0, 100.0, 0.5, 0.05, 0.0, 0.2)
    assert reply.greeks.delta == pytest.approx(float(expected.delta.sum()), rel=1e-12)
    assert reply.greeks.vega == pytest.approx(float(expected.vega.sum()), rel=1e-12)
    assert reply.prices == pytest.approx(np.linspace(50, 150, 11).tolist())
    expiry, later = reply.curves
    assert (expiry.label, expiry.horizon_years, later.label) == ("expiry", 0.5, "t+0.25")
    assert expiry.pnl == pytest.approx([abs(p - 100) - call - put for p in reply.prices], abs=1e-9)
    near = [n for n, p in enumerate(reply.prices) if abs(p - 100) <= 10]  # (a deep ITM put is worth
    assert all(later.pnl[n] > expiry.pnl[n] for n in near)  # less than intrinsic: r > 0) time value left


async def test_bull_call_spread_and_covered_call() -> None:
    long, short = model("call", 95), model("call", 105)
    debit = long - short
    legs = [
        {
            "type": "call",
            "quantity": 1,
            "entry_price": long,
            "strike": 95,
            "expiry_years": 0.5,
            "volatility": 0.2,
        },
        {
            "type": "call",
            "quantity": -1,
            "entry_price": short,
            "strike": 105,
            "expiry_years": 0.5,
            "volatility": 0.2,
        },
    ]
    spread = await OptionsApi().strategy(
        ALICE, StrategyRequest.model_validate({**MARKET, "legs": legs, "points": 61})
    )
    (expiry,) = spread.curves
    assert min(expiry.pnl) == pytest.approx(-debit, abs=1e-9)
    assert max(expiry.pnl) == pytest.approx(10 - debit, abs=1e-9)
    assert spread.cost == pytest.approx(debit)

    covered = [
        {"type": "underlying", "quantity": 1, "entry_price": 100},
        {
            "type": "call",
            "quantity": -1,
            "entry_price": short,
            "strike": 105,
            "expiry_years": 0.5,
            "volatility": 0.2,
        },
    ]
    reply = await OptionsApi().strategy(
        ALICE, StrategyRequest.model_validate({**MARKET, "legs": covered, "points": 31})
    )
    call_delta = float(bsm(True, 100.0, 105.0, 0.5, 0.05, 0.0, 0.2).delta)
    assert reply.greeks.delta == pytest.approx(1 - call_delta, rel=1e-12)
    assert max(reply.curves[0].pnl) == pytest.approx(5 + short, abs=1e-9)  # capped above the strike


async def test_greeks_and_implied_volatility_batches() -> None:
    items = [
        {**MARKET, "type": t, "strike": k, "expiry_years": 0.5, "volatility": 0.3}
        for t in ("call", "put")
        for k in (90, 110)
    ]
    greeks = await OptionsApi().greeks(ALICE, GreeksRequest.model_validate({"items": items}))
    expected = bsm([True, True, False, False], 100.0, [90, 110, 90, 110], 0.5, 0.05, 0.0, 0.3)
    assert [g.gamma for g in greeks.items] == pytest.approx(expected.gamma.tolist(), rel=1e-12)
    quote = {**MARKET, "type": "call", "strike": 90.0, "expiry_years": 0.5}
    quotes = [{**quote, "price": float(expected.price[0])}, {**quote, "price": 5.0}]
    iv = await OptionsApi().implied(ALICE, IvRequest.model_validate({"items": quotes}))
    assert iv.items[0].implied_volatility == pytest.approx(0.3, abs=1e-10)
    assert iv.items[0].greeks is not None and iv.items[0].greeks.price == pytest.approx(
        float(expected.price[0])
    )
    assert (iv.items[1].implied_volatility, iv.items[1].error) == (None, "no_solution")  # below intrinsic
    assert iv.items[1].message is not None and iv.items[1].message.startswith("items.1.price")
    future = {
        "spot": 20,
        "rate": 0.09,
        "type": "put",
        "strike": 20,
        "expiry_years": 4 / 12,
        "volatility": 0.25,
    }
    black = await OptionsApi().greeks(
        ALICE, GreeksRequest.model_validate({"model": "black76", "items": [future]})
    )
    assert black.items[0].price == pytest.approx(1.12, abs=0.005)  # Hull ex. 18.6


def test_expiry_labels() -> None:
    """December 2026's last Friday (25th) is quarterly, January 2027's (29th) monthly, others weekly."""
    assert [expiry_label(date(2026, 12, d)) for d in (11, 25)] == ["weekly", "quarterly"]
    assert expiry_label(date(2027, 1, 29)) == "monthly"
