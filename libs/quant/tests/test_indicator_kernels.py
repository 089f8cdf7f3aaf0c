"""Every indicator kernel equals its plain reference on random bars (NaN warm-up, short lengths)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import Bars, assert_series_close, bars_with_warmup, windows

from tradeloom.quant import indicators as ind
from tradeloom.quant.reference import indicators as ref

EXAMPLES = settings(max_examples=40, deadline=None)


def _pairs(actual: object, expected: object) -> None:
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple)
        for a, e in zip(actual, expected, strict=True):
            assert_series_close(a, e)
    else:
        assert_series_close(actual, expected)  # type: ignore[arg-type]


@EXAMPLES
@given(bars_with_warmup(), windows)
def test_moving_averages(bars: Bars, window: int) -> None:
    _pairs(ind.sma(bars.close, window), ref.sma(bars.close, window))
    _pairs(ind.ema(bars.close, window), ref.ema(bars.close, window))
    _pairs(ind.wma(bars.close, window), ref.wma(bars.close, window))
    _pairs(ind.wilder(bars.close, window), ref.wilder(bars.close, window))


@EXAMPLES
@given(bars_with_warmup(), windows, windows, windows)
def test_momentum(bars: Bars, a: int, b: int, c: int) -> None:
    h, lo, cl = bars.high, bars.low, bars.close
    _pairs(ind.rsi(cl, a), ref.rsi(cl, a))
    _pairs(ind.macd(cl, a, a + b, c), ref.macd(cl, a, a + b, c))
    _pairs(ind.stochastic(h, lo, cl, a, b, c % 4 + 1), ref.stochastic(h, lo, cl, a, b, c % 4 + 1))


@EXAMPLES
@given(bars_with_warmup(), windows, windows, st.floats(0.5, 3.0))
def test_volatility_and_channels(bars: Bars, window: int, other: int, k: float) -> None:
    h, lo, cl = bars.high, bars.low, bars.close
    _pairs(ind.true_range(h, lo, cl), ref.true_range(h, lo, cl))
    _pairs(ind.atr(h, lo, cl, window), ref.atr(h, lo, cl, window))
    _pairs(ind.bollinger(cl, window, k), ref.bollinger(cl, window, k))
    _pairs(ind.keltner(h, lo, cl, window, other, k), ref.keltner(h, lo, cl, window, other, k))
    _pairs(ind.donchian(h, lo, window), ref.donchian(h, lo, window))
    _pairs(ind.rolling_zscore(cl, window), ref.rolling_zscore(cl, window))
    _pairs(ind.rolling_volatility(cl, window + 1, 252.0), ref.rolling_volatility(cl, window + 1, 252.0))


@EXAMPLES
@given(bars_with_warmup(), st.integers(0, 12), windows)
def test_volume_and_trend(bars: Bars, vwap_window: int, window: int) -> None:
    h, lo, cl, v = bars.high, bars.low, bars.close, bars.volume
    _pairs(ind.vwap(h, lo, cl, v, vwap_window), ref.vwap(h, lo, cl, v, vwap_window))
    _pairs(ind.obv(cl, v), ref.obv(cl, v))
    _pairs(ind.adx(h, lo, cl, window), ref.adx(h, lo, cl, window))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: ind.sma(x, 0),
        lambda x: ind.ema(x, -1),
        lambda x: ind.rsi(x, 0),
        lambda x: ind.rolling_volatility(x, 1),
        lambda x: ind.vwap(x, x, x, x, -1),
    ],
)
def test_bad_windows_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="window"):
        call(np.ones(5))  # type: ignore[operator]
