"""Drawdown episodes of an equity curve (compiled; the reference lives in reference/metrics.py).

An episode starts at a running peak (index −1 is the initial capital before the first bar), reaches
its trough, and ends at the first bar whose equity is back at or above that peak (−1: not recovered).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.types import FloatArray, IntArray


@njit(cache=True)
def drawdown_episodes(equity: FloatArray, initial: float) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """(start, trough, end, depth) of every episode; depth is the fractional fall from the peak (< 0)."""
    n = equity.shape[0]
    starts = np.empty(n, dtype=np.int64)
    troughs = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    depths = np.empty(n)
    count = 0
    peak = initial
    peak_index = -1
    in_drawdown = False
    for i in range(n):
        value = equity[i]
        if value >= peak:
            if in_drawdown:
                ends[count - 1] = i
                in_drawdown = False
            peak = value
            peak_index = i
            continue
        depth = value / peak - 1.0
        if not in_drawdown:
            starts[count] = peak_index
            troughs[count] = i
            ends[count] = -1
            depths[count] = depth
            count += 1
            in_drawdown = True
        elif depth < depths[count - 1]:
            troughs[count - 1] = i
            depths[count - 1] = depth
    return starts[:count], troughs[:count], ends[:count], depths[:count]
