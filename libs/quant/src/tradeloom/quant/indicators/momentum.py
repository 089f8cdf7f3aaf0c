"""Momentum oscillators: RSI (Wilder), MACD and the stochastic oscillator."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.indicators._core import (
    check_window,
    first_finite,
    rolling_max,
    rolling_mean,
    rolling_min,
    seeded_smoother,
)
from tradeloom.quant.types import FloatArray


@njit(cache=True)
def rsi(close: FloatArray, window: int = 14) -> FloatArray:
    """Wilder's RSI: gains and losses smoothed by RMA seeded with their first-window means.

    The first value is at ``start + window``. No losses gives 100; no gains and no losses 50.
    """
    check_window(window)
    n = close.shape[0]
    gains = np.full(n, np.nan)
    losses = np.full(n, np.nan)
    start = first_finite(close)
    for i in range(start + 1, n):
        change = close[i] - close[i - 1]
        gains[i] = max(change, 0.0)
        losses[i] = max(-change, 0.0)
    avg_gain = seeded_smoother(gains, window, 1.0 / window)
    avg_loss = seeded_smoother(losses, window, 1.0 / window)
    out = np.full(n, np.nan)
    for i in range(n):
        g = avg_gain[i]
        loss = avg_loss[i]
        if np.isnan(g) or np.isnan(loss):
            continue
        if loss == 0.0:
            out[i] = 50.0 if g == 0.0 else 100.0
        else:
            out[i] = 100.0 - 100.0 / (1.0 + g / loss)
    return out


@njit(cache=True)
def macd(
    close: FloatArray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MACD line (EMA fast − EMA slow), signal line (EMA of the line) and histogram."""
    check_window(fast)
    check_window(slow)
    check_window(signal)
    line = seeded_smoother(close, fast, 2.0 / (fast + 1.0)) - seeded_smoother(close, slow, 2.0 / (slow + 1.0))
    sig = seeded_smoother(line, signal, 2.0 / (signal + 1.0))
    return line, sig, line - sig


@njit(cache=True)
def stochastic(  # noqa: PLR0917 (compiled kernels take positional arrays)
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    k_window: int = 14,
    d_window: int = 3,
    smooth_k: int = 1,
) -> tuple[FloatArray, FloatArray]:
    """Stochastic oscillator %K (optionally SMA-smoothed) and %D = SMA(%K, d_window).

    A window whose high equals its low gives 50 (the close sits in the middle of a zero range).
    """
    check_window(k_window)
    check_window(d_window)
    check_window(smooth_k)
    n = close.shape[0]
    highest = rolling_max(high, k_window)
    lowest = rolling_min(low, k_window)
    raw = np.full(n, np.nan)
    for i in range(n):
        span = highest[i] - lowest[i]
        if np.isnan(span) or np.isnan(close[i]):
            continue
        raw[i] = 50.0 if span == 0.0 else 100.0 * (close[i] - lowest[i]) / span
    k = rolling_mean(raw, smooth_k) if smooth_k > 1 else raw
    return k, rolling_mean(k, d_window)
