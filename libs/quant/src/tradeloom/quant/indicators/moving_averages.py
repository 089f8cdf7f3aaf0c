"""Moving averages: simple, exponential (SMA-seeded) and linearly weighted."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.indicators._core import check_window, rolling_mean, seeded_smoother
from tradeloom.quant.types import FloatArray


@njit(cache=True)
def sma(x: FloatArray, window: int) -> FloatArray:
    """Simple moving average of each full window."""
    return rolling_mean(x, window)


@njit(cache=True)
def ema(x: FloatArray, window: int) -> FloatArray:
    """Exponential moving average, ``alpha = 2 / (window + 1)``, seeded with the first window's SMA."""
    check_window(window)
    return seeded_smoother(x, window, 2.0 / (window + 1.0))


@njit(cache=True)
def wilder(x: FloatArray, window: int) -> FloatArray:
    """Wilder's smoothing (RMA): ``alpha = 1 / window``, seeded with the first window's SMA."""
    check_window(window)
    return seeded_smoother(x, window, 1.0 / window)


@njit(cache=True)
def wma(x: FloatArray, window: int) -> FloatArray:
    """Linearly weighted moving average: weights 1..window, newest heaviest."""
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    norm = window * (window + 1) / 2.0
    for i in range(window - 1, n):
        acc = 0.0
        for k in range(window):
            acc += (k + 1) * x[i - window + 1 + k]
        out[i] = acc / norm
    return out
