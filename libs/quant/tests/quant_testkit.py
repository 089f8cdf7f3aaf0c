"""Hypothesis strategies and comparison helpers shared by the quant tests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from tradeloom.quant.fills.models import CommissionModel, Costs, OrderType, SizingMode, SlippageModel
from tradeloom.quant.simulator.config import SimulationConfig
from tradeloom.quant.types import FloatArray


@dataclass(frozen=True)
class Bars:
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


def random_walk_bars(n: int, seed: int, start: float = 100.0, step: float = 0.01) -> Bars:
    """Synthetic OHLCV with a geometric random walk close and consistent high/low."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0, step, n)))
    open_ = np.empty(n)
    if n:
        open_[0] = start
        open_[1:] = close[:-1] * np.exp(rng.normal(0.0, step / 4, n - 1))
    wick = np.abs(rng.normal(0.0, step, (2, n))) * close
    high = np.maximum(open_, close) + wick[0]
    low = np.minimum(open_, close) - wick[1]
    volume = rng.uniform(1_000.0, 10_000.0, n).round()
    return Bars(open_, high, low, close, volume)


@st.composite
def bars_with_warmup(draw: st.DrawFn, max_len: int = 60) -> Bars:
    """Random bars of length 0..max_len, all series starting with a NaN warm-up region of 0..8 bars."""
    n = draw(st.integers(0, max_len))
    seed = draw(st.integers(0, 2**32 - 1))
    step = draw(st.sampled_from([0.0, 0.001, 0.02, 0.1]))
    bars = random_walk_bars(n, seed, start=draw(st.floats(1.0, 1000.0)), step=step)
    if draw(st.booleans()):  # flat prices and zero volumes exercise the degenerate branches
        bars.volume[: draw(st.integers(0, n))] = 0.0
    warmup = draw(st.integers(0, min(8, n)))
    for series in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        series[:warmup] = np.nan
    return bars


windows = st.integers(1, 15)


def assert_series_close(actual: FloatArray, expected: FloatArray, rtol: float = 1e-9) -> None:
    """Same NaN positions, values equal to ``rtol`` relative to the series' scale."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = ~np.isnan(expected)
    scale = float(np.max(np.abs(expected[finite]))) if finite.any() else 1.0
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=rtol * max(scale, 1.0))


def off_or(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(math.nan), st.floats(lo, hi))


configs = st.builds(
    SimulationConfig,
    initial_cash=st.floats(100.0, 1e6),
    fill_on_close=st.booleans(),
    entry_order_type=st.sampled_from([int(t) for t in OrderType]),
    entry_ttl=st.integers(1, 5),
    stop_loss=off_or(0.001, 0.1),
    take_profit=off_or(0.001, 0.2),
    trailing_stop=off_or(0.001, 0.1),
    sizing_mode=st.sampled_from([int(m) for m in SizingMode]),
    sizing_value=st.floats(0.05, 2.0),
    whole_units=st.booleans(),
    max_leverage=st.floats(0.5, 3.0),
    max_entries_per_day=st.sampled_from([0, 0, 1, 2]),
)
costs = st.builds(
    Costs,
    slippage_model=st.sampled_from([int(m) for m in SlippageModel]),
    slippage=st.floats(0.0, 0.01),
    volume_cap=st.floats(0.01, 1.0),
    commission_model=st.sampled_from([int(m) for m in CommissionModel]),
    fixed_fee=st.floats(0.0, 5.0),
    maker_rate=st.floats(0.0, 0.002),
    taker_rate=st.floats(0.0, 0.005),
    tier_thresholds=st.just(np.array([0.0, 5_000.0, 50_000.0])),
    tier_maker_rates=st.just(np.array([0.001, 0.0005, 0.0002])),
    tier_taker_rates=st.just(np.array([0.002, 0.001, 0.0005])),
    slippage_seed=st.integers(0, 2**63 - 1),
)
