"""Building blocks shared by the indicator kernels.

Conventions (see libs/quant/README.md): outputs have the input's length; positions without a full
window are NaN. Inputs may start with a NaN region (the warm-up of an upstream indicator): rolling
windows that contain a NaN give NaN, recursive smoothers start at the first finite value and carry
an interior NaN forward.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.types import FloatArray


@njit(cache=True)
def check_window(window: int, minimum: int = 1) -> None:
    if window < minimum:
        raise ValueError("window is below the minimum for this indicator")


@njit(cache=True)
def first_finite(x: FloatArray) -> int:
    """Index of the first finite value, or len(x) when there is none."""
    for i in range(x.shape[0]):
        if np.isfinite(x[i]):
            return i
    return int(x.shape[0])


@njit(cache=True)
def first_finite_all(a: FloatArray, b: FloatArray, c: FloatArray) -> int:
    """Index of the first bar where all three series are finite."""
    for i in range(a.shape[0]):
        if np.isfinite(a[i]) and np.isfinite(b[i]) and np.isfinite(c[i]):
            return i
    return int(a.shape[0])


RESYNC_EVERY = 1024


@njit(cache=True, inline="always")
def window_step(x: FloatArray, i: int, window: int, total: float, nans: int) -> tuple[float, int]:
    """Slide a running window sum to end at ``i``: add x[i], drop x[i − window], count NaNs instead
    of summing them. Every RESYNC_EVERY bars the sum is recomputed from the window itself, so
    rounding drift stays bounded (as accurate as a compensated sum in practice, twice as fast).
    Inlined (``inline="always"``): the fused SMA-cross loop steps two windows a bar, and as calls
    they cost it twice the time."""
    value = x[i]
    if np.isnan(value):
        nans += 1
    else:
        total += value
    if i >= window:
        old = x[i - window]
        if np.isnan(old):
            nans -= 1
        else:
            total -= old
    if (i & (RESYNC_EVERY - 1)) == 0 and nans == 0 and i >= window - 1:
        total = 0.0
        for j in range(i - window + 1, i + 1):
            total += x[j]
    return total, nans


@njit(cache=True, inline="always")
def finite_window_step(x: FloatArray, i: int, window: int, total: float) -> tuple[float, float]:
    """(the running sum, the mean or NaN before the first full window) of ``window_step`` for ``x``
    without NaN: its NaN count is always zero, so the same sums in the same order (identical means)
    without two NaN tests a bar. The one running SMA of ``sma_cross``, the grid's average table and
    the fused backtest."""
    total += x[i]
    if i >= window:
        total -= x[i - window]
    if (i & (RESYNC_EVERY - 1)) == 0 and i >= window - 1:
        total = 0.0
        for j in range(i - window + 1, i + 1):
            total += x[j]
    return total, (total / window if i >= window - 1 else np.nan)


@njit(cache=True, inline="always")
def finite_pair_step(  # noqa: PLR0917 (compiled: positional arguments)
    x: FloatArray, i: int, fast: int, slow: int, f_total: float, s_total: float
) -> tuple[float, float, float, float]:
    """``finite_window_step`` for two windows at once: (fast sum, slow sum, fast mean, slow mean),
    the same sums in the same order. One step a window here compiles to a loop four times slower
    (measured): the two sums want one load of ``x[i]`` and one resync test."""
    value = x[i]
    f_total += value
    s_total += value
    if i >= fast:
        f_total -= x[i - fast]
    if i >= slow:
        s_total -= x[i - slow]
    if (i & (RESYNC_EVERY - 1)) == 0:  # the loops written out: an inlined helper holding one is slower
        if i >= fast - 1:
            f_total = 0.0
            for j in range(i - fast + 1, i + 1):
                f_total += x[j]
        if i >= slow - 1:
            s_total = 0.0
            for j in range(i - slow + 1, i + 1):
                s_total += x[j]
    f = f_total / fast if i >= fast - 1 else np.nan
    return f_total, s_total, f, s_total / slow if i >= slow - 1 else np.nan


@njit(cache=True, inline="always")
def cross(a_before: float, b_before: float, a: float, b: float) -> tuple[bool, bool]:
    """(a crossed above b, a crossed below b) between two bars: strict on both sides, never with NaN."""
    return a_before < b_before and a > b, a_before > b_before and a < b


@njit(cache=True)
def rolling_mean(x: FloatArray, window: int) -> FloatArray:
    """Mean over each full window by a running sum (see ``window_step``); NaN in a window gives NaN."""
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    nans = 0
    for i in range(n):
        total, nans = window_step(x, i, window, total, nans)
        if i >= window - 1 and nans == 0:
            out[i] = total / window
    return out


@njit(cache=True)
def rolling_std(x: FloatArray, window: int, ddof: int) -> FloatArray:
    """Standard deviation of each full window (two-pass per window for accuracy)."""
    check_window(window, ddof + 1)
    n = x.shape[0]
    out = np.full(n, np.nan)
    mean = rolling_mean(x, window)
    for i in range(window - 1, n):
        if np.isnan(mean[i]):
            continue
        acc = 0.0
        for j in range(i - window + 1, i + 1):
            d = x[j] - mean[i]
            acc += d * d
        out[i] = np.sqrt(acc / (window - ddof))
    return out


@njit(cache=True)
def rolling_max(x: FloatArray, window: int) -> FloatArray:
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(window - 1, n):
        best = -np.inf
        for j in range(i - window + 1, i + 1):
            v = x[j]
            if np.isnan(v):
                best = np.nan
                break
            best = max(best, v)
        out[i] = best
    return out


@njit(cache=True)
def rolling_min(x: FloatArray, window: int) -> FloatArray:
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(window - 1, n):
        best = np.inf
        for j in range(i - window + 1, i + 1):
            v = x[j]
            if np.isnan(v):
                best = np.nan
                break
            best = min(best, v)
        out[i] = best
    return out


@njit(cache=True)
def seeded_smoother(x: FloatArray, window: int, alpha: float) -> FloatArray:
    """Exponential smoother seeded with the simple mean of the first full window.

    ``alpha = 2 / (window + 1)`` is the EMA, ``alpha = 1 / window`` Wilder's smoothing (RMA).
    Starts at the first finite value; the first output is at ``start + window - 1``.
    """
    check_window(window)
    n = x.shape[0]
    out = np.full(n, np.nan)
    start = first_finite(x)
    seed_end = start + window - 1
    if seed_end >= n:
        return out
    total = 0.0
    for j in range(start, seed_end + 1):
        total += x[j]
    value = total / window
    out[seed_end] = value
    for i in range(seed_end + 1, n):
        value = value + alpha * (x[i] - value)
        out[i] = value
    return out


@njit(cache=True)
def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """True range; the first valid bar has no previous close, so its range is high - low."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    start = first_finite_all(high, low, close)
    if start >= n:
        return out
    out[start] = high[start] - low[start]
    for i in range(start + 1, n):
        prev = close[i - 1]
        out[i] = max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))
    return out
