"""Reference indicators: literal per-bar definitions, no running sums, no Numba."""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.types import FloatArray

NAN = float("nan")


def _first_finite(*series: FloatArray) -> int:
    n = len(series[0])
    for i in range(n):
        if all(math.isfinite(float(s[i])) for s in series):
            return i
    return n


def _window(x: FloatArray, i: int, window: int) -> list[float] | None:
    """The full window ending at i as floats, or None when it is short or holds a NaN."""
    if i < window - 1:
        return None
    values = [float(v) for v in x[i - window + 1 : i + 1]]
    return None if any(math.isnan(v) for v in values) else values


def _per_window(x: FloatArray, window: int, fn: object) -> FloatArray:
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        values = _window(x, i, window)
        if values is not None:
            out[i] = fn(values)  # type: ignore[operator]
    return out


def sma(x: FloatArray, window: int) -> FloatArray:
    return _per_window(x, window, lambda v: math.fsum(v) / len(v))


def population_std(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def sample_std(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def smoother(x: FloatArray, window: int, alpha: float) -> FloatArray:
    """SMA-seeded exponential recursion starting at the first finite value."""
    out = np.full(len(x), np.nan)
    start = _first_finite(x)
    if start + window - 1 >= len(x):
        return out
    value = sum(float(v) for v in x[start : start + window]) / window
    out[start + window - 1] = value
    for i in range(start + window, len(x)):
        value = value + alpha * (float(x[i]) - value)
        out[i] = value
    return out


def ema(x: FloatArray, window: int) -> FloatArray:
    return smoother(x, window, 2.0 / (window + 1))


def wilder(x: FloatArray, window: int) -> FloatArray:
    """Wilder's smoothing in his own form, ``avg = ((n - 1) * prev + x) / n``, seeded with the SMA of
    the first full window from the first finite value (not via ``smoother``: an independent check)."""
    out = np.full(len(x), np.nan)
    start = _first_finite(x)
    seed_end = start + window - 1
    if seed_end >= len(x):
        return out
    value = math.fsum(float(v) for v in x[start : seed_end + 1]) / window
    out[seed_end] = value
    for i in range(seed_end + 1, len(x)):
        value = ((window - 1) * value + float(x[i])) / window
        out[i] = value
    return out


def wma(x: FloatArray, window: int) -> FloatArray:
    weights = list(range(1, window + 1))
    total = sum(weights)
    return _per_window(x, window, lambda v: sum(w * a for w, a in zip(weights, v, strict=True)) / total)


def rsi(close: FloatArray, window: int) -> FloatArray:
    n = len(close)
    start = _first_finite(close)
    gains = np.full(n, np.nan)
    losses = np.full(n, np.nan)
    for i in range(start + 1, n):
        change = float(close[i]) - float(close[i - 1])
        gains[i] = change if change > 0 else 0.0
        losses[i] = -change if change < 0 else 0.0
    avg_gain = smoother(gains, window, 1.0 / window)
    avg_loss = smoother(losses, window, 1.0 / window)
    out = np.full(n, np.nan)
    for i in range(n):
        g, loss = avg_gain[i], avg_loss[i]
        if math.isnan(g) or math.isnan(loss):
            continue
        if loss == 0:
            out[i] = 50.0 if g == 0 else 100.0
        else:
            rs = g / loss
            out[i] = 100.0 - 100.0 / (1.0 + rs)
    return out


def macd(close: FloatArray, fast: int, slow: int, signal: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line, sig, line - sig


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    n = len(close)
    out = np.full(n, np.nan)
    start = _first_finite(high, low, close)
    for i in range(start, n):
        if i == start:
            out[i] = high[i] - low[i]
        else:
            out[i] = max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
    return out


def atr(high: FloatArray, low: FloatArray, close: FloatArray, window: int) -> FloatArray:
    return smoother(true_range(high, low, close), window, 1.0 / window)


def bollinger(close: FloatArray, window: int, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    middle = sma(close, window)
    std = _per_window(close, window, population_std)
    return middle - k * std, middle, middle + k * std


def stochastic(  # noqa: PLR0917 (mirrors the kernel's signature)
    high: FloatArray, low: FloatArray, close: FloatArray, k_window: int, d_window: int, smooth_k: int
) -> tuple[FloatArray, FloatArray]:
    n = len(close)
    raw = np.full(n, np.nan)
    for i in range(n):
        highs = _window(high, i, k_window)
        lows = _window(low, i, k_window)
        if highs is None or lows is None or math.isnan(close[i]):
            continue
        hh, ll = max(highs), min(lows)
        raw[i] = 50.0 if hh == ll else 100.0 * (close[i] - ll) / (hh - ll)
    k = sma(raw, smooth_k) if smooth_k > 1 else raw
    return k, sma(k, d_window)


def donchian(high: FloatArray, low: FloatArray, window: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    upper = _per_window(high, window, max)
    lower = _per_window(low, window, min)
    return lower, (upper + lower) / 2, upper


def keltner(  # noqa: PLR0917 (mirrors the kernel's signature)
    high: FloatArray, low: FloatArray, close: FloatArray, window: int, atr_window: int, multiplier: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    middle = ema(close, window)
    width = multiplier * atr(high, low, close, atr_window)
    return middle - width, middle, middle + width


def rolling_zscore(x: FloatArray, window: int) -> FloatArray:
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        values = _window(x, i, window)
        if values is None:
            continue
        std, mean = population_std(values), math.fsum(values) / window
        out[i] = 0.0 if std <= 1e-12 * abs(mean) else (x[i] - mean) / std
    return out


def rolling_volatility(close: FloatArray, window: int, periods_per_year: float) -> FloatArray:
    n = len(close)
    returns = np.full(n, np.nan)
    start = _first_finite(close)
    for i in range(start + 1, n):
        returns[i] = close[i] / close[i - 1] - 1
    return _per_window(returns, window, sample_std) * math.sqrt(periods_per_year)


def vwap(high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, window: int) -> FloatArray:
    n = len(close)
    out = np.full(n, np.nan)
    start = _first_finite(high, low, close)
    for i in range(start, n):
        first = start if window == 0 else i - window + 1
        if first < start:
            continue
        typical = [(high[j] + low[j] + close[j]) / 3 for j in range(first, i + 1)]
        vol = [float(volume[j]) for j in range(first, i + 1)]
        total = sum(vol)
        if total > 0:
            out[i] = sum(t * v for t, v in zip(typical, vol, strict=True)) / total
    return out


def obv(close: FloatArray, volume: FloatArray) -> FloatArray:
    n = len(close)
    out = np.full(n, np.nan)
    start = _first_finite(close, volume)
    total = 0.0
    for i in range(start, n):
        if i > start:
            total += float(np.sign(close[i] - close[i - 1])) * volume[i]
        out[i] = total
    return out


def adx(
    high: FloatArray, low: FloatArray, close: FloatArray, window: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    n = len(close)
    start = _first_finite(high, low, close)
    plus_dm, minus_dm, tr = (np.full(n, np.nan) for _ in range(3))
    for i in range(start + 1, n):
        up, down = high[i] - high[i - 1], low[i - 1] - low[i]
        plus_dm[i] = up if up > down and up > 0 else 0.0
        minus_dm[i] = down if down > up and down > 0 else 0.0
        tr[i] = max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
    s_plus, s_minus, s_tr = (smoother(s, window, 1.0 / window) for s in (plus_dm, minus_dm, tr))
    plus_di, minus_di, dx = (np.full(n, np.nan) for _ in range(3))
    for i in range(n):
        if math.isnan(s_tr[i]):
            continue
        plus_di[i] = 0.0 if s_tr[i] == 0 else 100 * s_plus[i] / s_tr[i]
        minus_di[i] = 0.0 if s_tr[i] == 0 else 100 * s_minus[i] / s_tr[i]
        total = plus_di[i] + minus_di[i]
        dx[i] = 0.0 if total == 0 else 100 * abs(plus_di[i] - minus_di[i]) / total
    return smoother(dx, window, 1.0 / window), plus_di, minus_di
