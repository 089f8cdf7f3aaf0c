"""Trend strength: Wilder's ADX with +DI and −DI."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.indicators._core import check_window, first_finite_all, seeded_smoother
from tradeloom.quant.types import FloatArray


@njit(cache=True)
def adx(
    high: FloatArray, low: FloatArray, close: FloatArray, window: int = 14
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(ADX, +DI, −DI). Directional movement and true range start one bar after the first valid bar
    and are Wilder-smoothed; DI is first defined at ``start + window``, ADX at ``start + 2·window − 1``
    (TA-Lib's lookback). When +DI + −DI is 0, DX is 0.
    """
    check_window(window)
    n = close.shape[0]
    plus_dm = np.full(n, np.nan)
    minus_dm = np.full(n, np.nan)
    tr = np.full(n, np.nan)
    start = first_finite_all(high, low, close)
    for i in range(start + 1, n):
        up = high[i] - high[i - 1]
        down = low[i - 1] - low[i]
        plus_dm[i] = up if (up > down and up > 0.0) else 0.0
        minus_dm[i] = down if (down > up and down > 0.0) else 0.0
        prev = close[i - 1]
        tr[i] = max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))
    alpha = 1.0 / window
    s_plus = seeded_smoother(plus_dm, window, alpha)
    s_minus = seeded_smoother(minus_dm, window, alpha)
    s_tr = seeded_smoother(tr, window, alpha)
    plus_di = np.full(n, np.nan)
    minus_di = np.full(n, np.nan)
    dx = np.full(n, np.nan)
    for i in range(n):
        if np.isnan(s_tr[i]):
            continue
        if s_tr[i] == 0.0:
            plus_di[i] = 0.0
            minus_di[i] = 0.0
        else:
            plus_di[i] = 100.0 * s_plus[i] / s_tr[i]
            minus_di[i] = 100.0 * s_minus[i] / s_tr[i]
        total = plus_di[i] + minus_di[i]
        dx[i] = 0.0 if total == 0.0 else 100.0 * abs(plus_di[i] - minus_di[i]) / total
    return seeded_smoother(dx, window, alpha), plus_di, minus_di
