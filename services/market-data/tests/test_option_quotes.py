"""Synthetic option quotes: the smile's shape, bid < model < ask on the tick, deterministic per
seed, and the implied volatility of each side brackets the smile's (IV increases with price)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from tradeloom.market_data.domain.option_quotes import (
    SPREAD_MAX,
    SPREAD_MIN,
    OptionSpec,
    quote,
    quotes,
    smile,
    spread_fraction,
)
from tradeloom.quant.options import bsm, implied_vols

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
EXPIRY = NOW + timedelta(days=30)


def spec(strike: int, kind: str = "call", tick: str = "0.01") -> OptionSpec:
    letter = kind[0].upper()
    return OptionSpec(f"BTC/USDT:USDT-270105-{strike}-{letter}", kind, Decimal(strike), EXPIRY, Decimal(tick))


def test_smile_by_hand() -> None:
    """x = ln(K/S); σ = σ₀ (1 − 0.5 x + 2 x²): ATM is σ₀, the put wing is dearer than the call wing."""
    assert smile(100.0, 100.0, 0.6) == 0.6
    x = math.log(80 / 100)
    assert smile(100.0, 80.0, 0.6) == 0.6 * (1 - 0.5 * x + 2 * x * x)
    assert smile(100.0, 80.0, 0.6) > smile(100.0, 125.0, 0.6)
    assert smile(100.0, 140.0, 0.6) > 0.6  # the call wing rises too
    assert smile(100.0, 100.0, 0.0) == 0.05  # the floor


def test_bid_below_model_below_ask_on_ticks_and_deterministic() -> None:
    for strike in (45500, 65000, 84500):
        for kind in ("call", "put"):
            q = quote(spec(strike, kind), 65000.0, 0.8, NOW, seed=42)
            assert q is not None and q.bid is not None
            years = (EXPIRY - NOW).total_seconds() / (365 * 86400)
            model = float(bsm(kind == "call", 65000.0, strike, years, 0, 0, q.model_volatility).price)
            assert q.model_price == model and float(q.bid) < model < float(q.ask)
            assert q.bid % Decimal("0.01") == 0 and q.ask % Decimal("0.01") == 0
            fraction = spread_fraction(42, q.spec.symbol)
            assert SPREAD_MIN <= fraction <= SPREAD_MAX
            assert float(q.ask) - model >= fraction * model - 1e-9
            assert quote(spec(strike, kind), 65000.0, 0.8, NOW, seed=42) == q  # same seed, same quote
    assert spread_fraction(42, spec(65000).symbol) != spread_fraction(7, spec(65000).symbol)


def test_side_ivs_bracket_the_smile() -> None:
    q = quote(spec(60000, "put"), 65000.0, 0.8, NOW, seed=42)
    assert q is not None and q.bid is not None
    years = (EXPIRY - NOW).total_seconds() / (365 * 86400)
    vols, ok = implied_vols(np.array([float(q.bid), float(q.ask)]), False, 65000.0, 60000.0, years, 0, 0)
    assert ok.all() and vols[0] < q.model_volatility < vols[1]


def test_no_bid_below_a_tick_and_nothing_once_expired() -> None:
    far = quote(spec(200, "call", tick="1"), 100.0, 0.2, NOW, seed=42)  # worth ~1e-30
    assert far is not None and far.bid is None and far.ask == Decimal(1)
    assert quote(spec(100), 100.0, 0.5, EXPIRY, seed=42) is None


def test_a_chain_is_quoted_in_one_pass_exactly_as_option_by_option() -> None:
    """``quotes`` (one vectorised pricing pass for a whole chain) equals ``quote`` per option."""
    specs = [
        OptionSpec(f"BTC/USDT:USDT-270105-{k}-{t[0].upper()}", t, Decimal(k), expiry, Decimal("0.1"))
        for k in range(40_000, 80_001, 5_000) for t in ("call", "put")
        for expiry in (EXPIRY, NOW - timedelta(days=1))
    ]  # fmt: skip
    made = quotes(specs, 60_000.0, 0.6, NOW, 7)
    assert made == [quote(spec, 60_000.0, 0.6, NOW, 7) for spec in specs]
    assert sum(m is None for m in made) == len(specs) // 2  # the expired half
    assert quotes([], 60_000.0, 0.6, NOW, 7) == []
