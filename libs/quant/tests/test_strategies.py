"""Strategy signal kernels equal their references; parameter schemas validate and explain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import Bars, bars_with_warmup

from tradeloom.quant.reference import signals as ref
from tradeloom.quant.strategies import BUILTIN_STRATEGIES, InvalidParameters, OhlcArrays, strategy_signals
from tradeloom.quant.strategies import signals as kern


def _same(actual: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...]) -> None:
    for a, e in zip(actual[:4], expected[:4], strict=True):
        np.testing.assert_array_equal(a, e)
    np.testing.assert_array_equal(actual[4], expected[4])


@settings(max_examples=40, deadline=None)
@given(bars_with_warmup(max_len=80), st.integers(1, 8), st.integers(1, 8), st.integers(1, 5), st.booleans())
def test_signal_kernels_match_references(bars: Bars, a: int, b: int, c: int, short: bool) -> None:
    h, lo, cl = bars.high, bars.low, bars.close
    _same(kern.sma_cross(cl, a, a + b, short), ref.sma_cross(cl, a, a + b, short))
    _same(kern.ema_cross(cl, a, a + b, short), ref.ema_cross(cl, a, a + b, short))
    _same(kern.macd_cross(cl, a, a + b, c, short), ref.macd_cross(cl, a, a + b, c, short))
    _same(
        kern.rsi_reversion(cl, a, 30.0, 70.0, 50.0, short), ref.rsi_reversion(cl, a, 30.0, 70.0, 50.0, short)
    )
    for breakout in (True, False):
        _same(
            kern.bollinger_bands(cl, a + 1, 1.5, breakout, short),
            ref.bollinger_bands(cl, a + 1, 1.5, breakout, short),
        )
    _same(kern.donchian_breakout(h, lo, cl, a, b, short), ref.donchian_breakout(h, lo, cl, a, b, short))


def test_every_builtin_runs_with_defaults_and_documents_its_params() -> None:
    close = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 300))
    bars = OhlcArrays(close, close + 1, close - 1, close, np.arange(300, dtype=np.int64) * 3_600 * 10**9)
    for name, spec in BUILTIN_STRATEGIES.items():
        entry_long, *_ = strategy_signals(name, bars, {})
        assert entry_long.shape == (300,) and entry_long.dtype == np.bool_
        described = spec.as_dict()
        assert described["name"] == name and all(p["default"] is not None for p in described["params"])


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("sma_cross", {"fast": 0}, "fast"),
        ("sma_cross", {"fast": 30, "slow": 20}, "slow"),
        ("sma_cross", {"fast": 2.5}, "fast"),
        ("sma_cross", {"fast": "10"}, "fast"),
        ("sma_cross", {"window": 3}, "window"),
        ("sma_cross", {"allow_short": 1}, "allow_short"),
        ("rsi_reversion", {"oversold": 60.0}, "exit_level"),
        ("bollinger", {"k": float("nan")}, "k"),
        ("nope", {}, "strategy"),
    ],
)
def test_bad_parameters_name_the_field(name: str, params: dict[str, object], field: str) -> None:
    close = np.linspace(1.0, 2.0, 50)
    with pytest.raises(ValueError, match=f"^{field}:") as info:
        strategy_signals(name, OhlcArrays(close, close, close, close), params)
    if isinstance(info.value, InvalidParameters):
        assert info.value.field == field


@settings(max_examples=40, deadline=None)
@given(bars_with_warmup(max_len=80), st.integers(1, 6), st.integers(1, 12), st.booleans())
def test_opening_range_breakout_matches_reference(
    bars: Bars, range_bars: int, per_day: int, short: bool
) -> None:
    h, lo, cl = (np.nan_to_num(a, nan=100.0) for a in (bars.high, bars.low, bars.close))
    day = np.arange(len(cl), dtype=np.int64) // per_day
    _same(kern.opening_range_breakout(h, lo, cl, day, range_bars, short),
          ref.opening_range_breakout(h, lo, cl, day, range_bars, short))  # fmt: skip


def test_opening_range_breakout_worked_example_and_needs_times() -> None:
    hour = 3_600 * 10**9
    close = np.array([10.0, 11.0, 10.5, 12.0, 12.5, 11.0, 10.0, 10.2, 9.0, 9.5])
    bars = OhlcArrays(close, close + 0.1, close - 0.1, close, np.arange(10, dtype=np.int64) * 5 * hour)
    el, xl, es, xs, level = strategy_signals(
        "opening_range_breakout", bars, {"range_bars": 2, "allow_short": True}
    )
    # day 0 = bars 0–4 (range 9.9–11.1), day 1 = bars 5–9 (range 9.9–11.1)
    assert el.tolist() == [False, False, False, True, False, False, False, False, False, False]
    assert es.tolist() == [False] * 8 + [True, False]
    assert xl.tolist() == xs.tolist() == [False, False, False, False, True, False, False, False, False, True]
    assert level[3] == 11.1
    with pytest.raises(ValueError, match=r"^time:"):
        strategy_signals("opening_range_breakout", OhlcArrays(close, close, close, close), {})
