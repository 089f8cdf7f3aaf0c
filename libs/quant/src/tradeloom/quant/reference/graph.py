"""Literal references of the builder-graph kernels (``tradeloom.quant.graph.kernels``)."""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.types import BoolArray, FloatArray


def bars_since(condition: BoolArray) -> FloatArray:
    out = []
    for i in range(len(condition)):
        trues = [j for j in range(i + 1) if condition[j]]
        out.append(float(i - trues[-1]) if trues else math.nan)
    return np.array(out, dtype=np.float64)


def lag(x: FloatArray, bars: int) -> FloatArray:
    return np.array([x[i - bars] if i >= bars else math.nan for i in range(len(x))], dtype=np.float64)


def held_position(
    entry_long: np.ndarray, exit_long: np.ndarray, entry_short: np.ndarray, exit_short: np.ndarray
) -> tuple[np.ndarray, ...]:
    """The signal-level position machine, bar by bar, as literally as the simulator states it."""
    n = entry_long.shape[1]
    chosen: list[list[bool]] = [[], [], [], []]
    positions: list[float] = []
    held = 0
    for t in range(n):
        positions.append(float(held))
        el, xl, es, xs = (
            bool(sink[held + 1][t]) for sink in (entry_long, exit_long, entry_short, exit_short)
        )
        for column, value in zip(chosen, (el, xl, es, xs), strict=True):
            column.append(value)
        wants_long = el and not xl
        wants_short = es and not xs
        if wants_long and wants_short:
            wants_long = wants_short = False
        exits = (held == 1 and (xl or wants_short)) or (held == -1 and (xs or wants_long))
        if exits:
            held = 0
        if wants_long and held != 1:
            held = 1
        elif wants_short and held != -1:
            held = -1
    return (*(np.array(column, dtype=np.bool_) for column in chosen), np.array(positions, dtype=np.float64))
