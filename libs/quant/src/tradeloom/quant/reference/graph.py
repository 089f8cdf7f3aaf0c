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
