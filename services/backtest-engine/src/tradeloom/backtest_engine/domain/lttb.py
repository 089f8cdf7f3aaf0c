"""Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013) for chart series.

``lttb_indices`` is the numpy version the service uses; ``lttb_indices_reference`` is the plain
loop of the original description, kept as the oracle the tests compare against. Both keep the
first and last point and one point per bucket: the one forming the largest triangle with the
point kept in the previous bucket and the mean of the next bucket.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _bucket_bounds(n: int, n_out: int, bucket: int) -> tuple[int, int]:
    """[start, end) of inner bucket ``bucket`` (0-based) among ``n_out - 2`` over points 1..n-2."""
    every = (n - 2) / (n_out - 2)
    return math.floor(bucket * every) + 1, math.floor((bucket + 1) * every) + 1


def lttb_indices(x: FloatArray, y: FloatArray, n_out: int) -> IntArray:
    """Indices of at most ``n_out`` points of (x, y) chosen by LTTB; every index when n <= n_out."""
    n = int(x.shape[0])
    if n_out >= n or n_out < 3:
        return np.arange(n, dtype=np.int64)
    chosen = np.empty(n_out, dtype=np.int64)
    chosen[0], chosen[-1] = 0, n - 1
    a = 0
    for bucket in range(n_out - 2):
        start, end = _bucket_bounds(n, n_out, bucket)
        if bucket == n_out - 3:
            next_x, next_y = x[n - 1], y[n - 1]
        else:
            next_start, next_end = _bucket_bounds(n, n_out, bucket + 1)
            next_x, next_y = x[next_start:next_end].mean(), y[next_start:next_end].mean()
        xs, ys = x[start:end], y[start:end]
        area = np.abs((x[a] - next_x) * (ys - y[a]) - (x[a] - xs) * (next_y - y[a]))
        a = start + int(np.argmax(area))
        chosen[bucket + 1] = a
    return chosen


def lttb_indices_reference(x: list[float], y: list[float], n_out: int) -> list[int]:
    """The same selection with plain Python loops (the test oracle)."""
    n = len(x)
    if n_out >= n or n_out < 3:
        return list(range(n))
    chosen = [0]
    a = 0
    for bucket in range(n_out - 2):
        start, end = _bucket_bounds(n, n_out, bucket)
        if bucket == n_out - 3:
            next_x, next_y = x[n - 1], y[n - 1]
        else:
            next_start, next_end = _bucket_bounds(n, n_out, bucket + 1)
            count = next_end - next_start
            next_x = sum(x[next_start:next_end]) / count
            next_y = sum(y[next_start:next_end]) / count
        best, best_area = start, -1.0
        for i in range(start, end):
            area = abs((x[a] - next_x) * (y[i] - y[a]) - (x[a] - x[i]) * (next_y - y[a]))
            if area > best_area:
                best, best_area = i, area
        a = best
        chosen.append(a)
    chosen.append(n - 1)
    return chosen


def downsample(values: FloatArray, n_out: int) -> IntArray:
    """LTTB indices of a series sampled at evenly spaced bars (x is the bar number)."""
    return lttb_indices(np.arange(values.shape[0], dtype=np.float64), values, n_out)
