"""Volatility and channel indicators: ATR, Bollinger, Keltner, Donchian, z-score, rolling volatility."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.indicators._core import (
    check_window,
    first_finite,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    seeded_smoother,
    true_range,
)
from tradeloom.quant.types import FloatArray

FLAT_TOLERANCE = 1e-12


@njit(cache=True)
def atr(high: FloatArray, low: FloatArray, close: FloatArray, window: int = 14) -> FloatArray:
    """Average true range: Wilder's smoothing of the true range, seeded with its first-window mean."""
    check_window(window)
    return seeded_smoother(true_range(high, low, close), window, 1.0 / window)


@njit(cache=True)
def bollinger(
    close: FloatArray, window: int = 20, k: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands (lower, middle, upper): SMA ± k population standard deviations."""
    middle = rolling_mean(close, window)
    std = rolling_std(close, window, 0)
    return middle - k * std, middle, middle + k * std


@njit(cache=True)
def keltner(  # noqa: PLR0917 (compiled kernels take positional arrays)
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    window: int = 20,
    atr_window: int = 10,
    multiplier: float = 2.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Keltner channel (lower, middle, upper): EMA(close) ± multiplier × ATR."""
    check_window(window)
    middle = seeded_smoother(close, window, 2.0 / (window + 1.0))
    width = multiplier * atr(high, low, close, atr_window)
    return middle - width, middle, middle + width


@njit(cache=True)
def donchian(
    high: FloatArray, low: FloatArray, window: int = 20
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Donchian channel (lower, middle, upper) over each full window, the current bar included."""
    upper = rolling_max(high, window)
    lower = rolling_min(low, window)
    return lower, (upper + lower) / 2.0, upper


@njit(cache=True)
def rolling_zscore(x: FloatArray, window: int) -> FloatArray:
    """(x − SMA) / population std over each full window.

    A flat window (std at most 1e-12 of the mean's magnitude, i.e. rounding noise) gives 0. Each
    window's mean is summed afresh, not taken from a running sum: the running sum's rounding drift
    is amplified by 1/std when the window is nearly flat (a window of 2 gave 1.000000004 for ±1).
    """
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(window - 1, n):
        total = 0.0
        for j in range(i - window + 1, i + 1):
            total += x[j]
        if np.isnan(total):
            continue
        mean = total / window
        acc = 0.0
        for j in range(i - window + 1, i + 1):
            d = x[j] - mean
            acc += d * d
        std = np.sqrt(acc / window)
        out[i] = 0.0 if std <= FLAT_TOLERANCE * abs(mean) else (x[i] - mean) / std
    return out


@njit(cache=True)
def rolling_volatility(close: FloatArray, window: int, periods_per_year: float = 1.0) -> FloatArray:
    """Sample std (ddof 1) of simple returns over each window, times sqrt(periods_per_year)."""
    check_window(window, 2)
    n = close.shape[0]
    returns = np.full(n, np.nan)
    start = first_finite(close)
    for i in range(start + 1, n):
        returns[i] = close[i] / close[i - 1] - 1.0
    out: FloatArray = rolling_std(returns, window, 1) * np.sqrt(periods_per_year)
    return out
