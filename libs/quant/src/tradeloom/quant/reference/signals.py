# ruff: noqa: PLR0917 (mirrors the kernels' signatures)
"""Reference signals of the built-in strategies from the reference indicators, one bar at a time."""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.reference import indicators as ind
from tradeloom.quant.types import BoolArray, FloatArray

Signals = tuple[BoolArray, BoolArray, BoolArray, BoolArray, FloatArray]


def crossed_above(a: FloatArray, b: FloatArray) -> BoolArray:
    return np.array(
        [t > 0 and bool(a[t - 1] < b[t - 1]) and bool(a[t] > b[t]) for t in range(len(a))], dtype=bool
    )


def _pack(el: BoolArray, xl: BoolArray, es: BoolArray, xs: BoolArray, short: bool, n: int) -> Signals:
    none = np.zeros(n, dtype=bool)
    return el, xl, es if short else none, xs if short else none, np.empty(0)


def cross(fast: FloatArray, slow: FloatArray, short: bool) -> Signals:
    up, down = crossed_above(fast, slow), crossed_above(slow, fast)
    return _pack(up, down, down, up, short, len(fast))


def sma_cross(close: FloatArray, fast: int, slow: int, short: bool) -> Signals:
    return cross(ind.sma(close, fast), ind.sma(close, slow), short)


def ema_cross(close: FloatArray, fast: int, slow: int, short: bool) -> Signals:
    return cross(ind.ema(close, fast), ind.ema(close, slow), short)


def macd_cross(close: FloatArray, fast: int, slow: int, signal: int, short: bool) -> Signals:
    line, sig, _ = ind.macd(close, fast, slow, signal)
    return cross(line, sig, short)


def rsi_reversion(
    close: FloatArray, window: int, low: float, high: float, mid: float, short: bool
) -> Signals:
    r, n = ind.rsi(close, window), len(close)
    lo, hi, md = np.full(n, low), np.full(n, high), np.full(n, mid)
    return _pack(
        crossed_above(lo, r), crossed_above(r, md), crossed_above(r, hi), crossed_above(md, r), short, n
    )


def bollinger_bands(close: FloatArray, window: int, k: float, breakout: bool, short: bool) -> Signals:
    lower, middle, upper = ind.bollinger(close, window, k)
    if breakout:
        el, xl = crossed_above(close, upper), crossed_above(middle, close)
        es, xs = crossed_above(lower, close), crossed_above(close, middle)
    else:
        el, xl = crossed_above(lower, close), crossed_above(close, middle)
        es, xs = crossed_above(close, upper), crossed_above(middle, close)
    return _pack(el, xl, es, xs, short, len(close))


def donchian_breakout(
    high: FloatArray, low: FloatArray, close: FloatArray, window: int, exit_window: int, short: bool
) -> Signals:
    lower, _, upper = ind.donchian(high, low, window)
    exit_lower, _, exit_upper = ind.donchian(high, low, exit_window)
    n = len(close)
    el, xl, es, xs = (np.zeros(n, dtype=bool) for _ in range(4))
    for t in range(1, n):
        el[t], xl[t] = close[t] > upper[t - 1], close[t] < exit_lower[t - 1]
        es[t], xs[t] = short and close[t] < lower[t - 1], short and close[t] > exit_upper[t - 1]
    level = upper.copy()
    if n:
        level[0] = np.nan
    return el, xl, es, xs, level


def opening_range_breakout(
    high: FloatArray, low: FloatArray, close: FloatArray, day: np.ndarray, range_bars: int, short: bool
) -> Signals:
    n = len(close)
    el, xl, es, xs = (np.zeros(n, dtype=bool) for _ in range(4))
    level = np.full(n, np.nan)
    for t in range(n):
        start = t
        while start > 0 and day[start - 1] == day[t]:
            start -= 1
        last = t == n - 1 or day[t + 1] != day[t]
        xl[t], xs[t] = last, last and short
        if t - start < range_bars or last:
            continue
        top, bottom = max(high[start : start + range_bars]), min(low[start : start + range_bars])
        level[t] = top
        before = close[t - 1] if t - 1 - start >= range_bars else math.nan
        el[t] = close[t] > top and not before > top
        es[t] = short and close[t] < bottom and not before < bottom
    return el, xl, es, xs, level
