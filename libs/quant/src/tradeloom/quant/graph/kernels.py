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


@njit(cache=True)
def held_position(
    entry_long: BoolArray, exit_long: BoolArray, entry_short: BoolArray, exit_short: BoolArray
) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray, FloatArray]:
    """Resolve sinks that read ``state.position``: each argument is (3, n), row ``p + 1`` the sink's
    signal had the held position been ``p`` (−1 short, 0 flat, +1 long). Walking the bars with the
    simulator's signal rules (an exit and an entry of one side cancel; opposite entries cancel; an
    entry against a position reverses it), returns the signals actually given and the position held
    coming into each bar (signals only: stops, fills and sizing are the simulator's)."""
    n = entry_long.shape[1]
    el = np.zeros(n, dtype=np.bool_)
    xl = np.zeros(n, dtype=np.bool_)
    es = np.zeros(n, dtype=np.bool_)
    xs = np.zeros(n, dtype=np.bool_)
    position = np.zeros(n)
    held = 0
    for t in range(n):
        position[t] = held
        row = held + 1
        el[t] = entry_long[row, t]
        xl[t] = exit_long[row, t]
        es[t] = entry_short[row, t]
        xs[t] = exit_short[row, t]
        go_long = el[t] and not xl[t]
        go_short = es[t] and not xs[t]
        if go_long and go_short:
            go_long = go_short = False
        if (held > 0 and (xl[t] or go_short)) or (held < 0 and (xs[t] or go_long)):
            held = 0
        if go_long and held <= 0:
            held = 1
        elif go_short and held >= 0:
            held = -1
    return el, xl, es, xs, position
