"""Volume indicators: VWAP (cumulative or rolling) and on-balance volume."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.indicators._core import first_finite_all
from tradeloom.quant.types import FloatArray


@njit(cache=True)
def vwap(
    high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, window: int = 0
) -> FloatArray:
    """Volume-weighted typical price ((H+L+C)/3); ``window=0`` is cumulative from the first valid bar.

    Bars before any volume has traded give NaN.
    """
    if window < 0:
        raise ValueError("window must be 0 (cumulative) or positive")
    n = close.shape[0]
    out = np.full(n, np.nan)
    start = first_finite_all(high, low, close)
    pv = np.zeros(n)
    for i in range(start, n):
        pv[i] = (high[i] + low[i] + close[i]) / 3.0 * volume[i]
    cum_pv = 0.0
    cum_v = 0.0
    for i in range(start, n):
        if window == 0:
            cum_pv += pv[i]
            cum_v += volume[i]
        else:
            if i - start + 1 < window:
                continue
            cum_pv = 0.0
            cum_v = 0.0
            for j in range(i - window + 1, i + 1):
                cum_pv += pv[j]
                cum_v += volume[j]
        if cum_v > 0.0:
            out[i] = cum_pv / cum_v
    return out


@njit(cache=True)
def obv(close: FloatArray, volume: FloatArray) -> FloatArray:
    """On-balance volume, 0 at the first valid bar, then ± volume by the sign of the close change."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    start = first_finite_all(close, volume, volume)
    if start >= n:
        return out
    total = 0.0
    out[start] = 0.0
    for i in range(start + 1, n):
        if close[i] > close[i - 1]:
            total += volume[i]
        elif close[i] < close[i - 1]:
            total -= volume[i]
        out[i] = total
    return out
