"""Compiled kernels that only builder graphs need (each has a reference in ``reference.graph``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.types import BoolArray, FloatArray


@njit(cache=True)
def bars_since(condition: BoolArray) -> FloatArray:
    """Bars since ``condition`` was last true (0 on a true bar); NaN before it first was."""
    n = condition.shape[0]
    out = np.full(n, np.nan)
    last = -1
    for i in range(n):
        if condition[i]:
            last = i
        if last >= 0:
            out[i] = i - last
    return out


@njit(cache=True)
def lag(x: FloatArray, bars: int) -> FloatArray:
    """``x`` shifted ``bars`` later: the value ``bars`` bars ago, NaN where there is none."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(bars, n):
        out[i] = x[i - bars]
    return out
