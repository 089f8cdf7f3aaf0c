"""Indicators against worked textbook examples and pandas' definitions where they agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
from quant_testkit import assert_series_close, random_walk_bars

from tradeloom.quant import indicators as ind

# StockCharts ChartSchool RSI(14) worked example (Wilder's smoothing).
RSI_CLOSES = np.array([
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
    45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
    46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
    43.4205,
])  # fmt: skip
RSI_EXPECTED = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42,
                39.99, 41.46, 41.87, 45.46, 37.30]  # fmt: skip


def test_rsi_matches_the_stockcharts_worked_example() -> None:
    result = ind.rsi(RSI_CLOSES, 14)
    assert np.isnan(result[:14]).all()
    np.testing.assert_allclose(result[14:], RSI_EXPECTED, atol=0.01)


def test_sma_of_one_to_five() -> None:
    np.testing.assert_array_equal(ind.sma(np.arange(1.0, 6.0), 3)[2:], [2.0, 3.0, 4.0])
    assert np.isnan(ind.sma(np.arange(1.0, 6.0), 3)[:2]).all()


def test_wma_worked_example() -> None:
    # (1*1 + 2*2 + 3*3) / 6 = 14/6
    assert ind.wma(np.array([1.0, 2.0, 3.0]), 3)[2] == 14.0 / 6.0


def test_wilder_worked_example() -> None:
    # seed (1+2+3)/3 = 2; then ((3-1)*prev + x) / 3: (4+4)/3 = 8/3, (16/3+5)/3 = 31/9, (62/9+6)/3 = 116/27
    result = ind.wilder(np.arange(1.0, 7.0), 3)
    assert np.isnan(result[:2]).all()
    np.testing.assert_allclose(result[2:], [2.0, 8 / 3, 31 / 9, 116 / 27], rtol=1e-15)


def test_wilder_starts_after_a_nan_warmup() -> None:
    x = np.array([np.nan, np.nan, 1.0, 2.0, 3.0, 4.0])
    result = ind.wilder(x, 3)
    assert np.isnan(result[:4]).all()
    np.testing.assert_allclose(result[4:], [2.0, 8 / 3], rtol=1e-15)


def _seeded_ewm(x: pd.Series, window: int, alpha: float) -> np.ndarray:
    """pandas' recursive EWM started from the first window's SMA (the TA-Lib/StockCharts seeding)."""
    seeded = pd.concat([pd.Series([x.iloc[:window].mean()]), x.iloc[window:]], ignore_index=True)
    tail = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return np.concatenate([np.full(window - 1, np.nan), tail])


def test_against_pandas_definitions() -> None:
    bars = random_walk_bars(500, seed=7)
    close = pd.Series(bars.close)
    high, low, vol = pd.Series(bars.high), pd.Series(bars.low), pd.Series(bars.volume)
    roll = close.rolling(20)
    assert_series_close(ind.sma(bars.close, 20), roll.mean().to_numpy())
    weights = np.arange(1.0, 11.0)
    wma = close.rolling(10).apply(lambda w: float(np.dot(w, weights) / weights.sum()), raw=True)
    assert_series_close(ind.wma(bars.close, 10), wma.to_numpy())
    lower, _, upper = ind.bollinger(bars.close, 20, 2.0)
    assert_series_close(upper, (roll.mean() + 2 * roll.std(ddof=0)).to_numpy())
    assert_series_close(lower, (roll.mean() - 2 * roll.std(ddof=0)).to_numpy())
    z = (close - roll.mean()) / roll.std(ddof=0)
    assert_series_close(ind.rolling_zscore(bars.close, 20), z.to_numpy())
    vol_expected = close.pct_change().rolling(20).std() * np.sqrt(252)
    assert_series_close(ind.rolling_volatility(bars.close, 20, 252.0), vol_expected.to_numpy())
    d_lower, _, d_upper = ind.donchian(bars.high, bars.low, 20)
    assert_series_close(d_upper, high.rolling(20).max().to_numpy())
    assert_series_close(d_lower, low.rolling(20).min().to_numpy())
    assert_series_close(ind.ema(bars.close, 12), _seeded_ewm(close, 12, 2 / 13))
    assert_series_close(ind.wilder(bars.close, 14), _seeded_ewm(close, 14, 1 / 14))
    obv = (np.sign(close.diff()) * vol).fillna(0).cumsum()
    assert_series_close(ind.obv(bars.close, bars.volume), obv.to_numpy())
    typical = (high + low + close) / 3
    assert_series_close(ind.vwap(bars.high, bars.low, bars.close, bars.volume),
                        ((typical * vol).cumsum() / vol.cumsum()).to_numpy())  # fmt: skip
    tr = pd.concat([high - low, (high - close.shift()).abs(), (low - close.shift()).abs()], axis=1).max(
        axis=1
    )
    assert_series_close(ind.atr(bars.high, bars.low, bars.close, 14), _seeded_ewm(tr, 14, 1 / 14))
    k = 100 * (close - low.rolling(14).min()) / (high.rolling(14).max() - low.rolling(14).min())
    k_actual, d_actual = ind.stochastic(bars.high, bars.low, bars.close, 14, 3)
    assert_series_close(k_actual, k.to_numpy())
    assert_series_close(d_actual, k.rolling(3).mean().to_numpy())


def test_macd_line_is_difference_of_emas_and_adx_is_bounded() -> None:
    bars = random_walk_bars(300, seed=3)
    line, signal, hist = ind.macd(bars.close)
    assert_series_close(line, ind.ema(bars.close, 12) - ind.ema(bars.close, 26))
    assert np.isnan(signal[:33]).all() and not np.isnan(signal[33])
    assert_series_close(hist, line - signal)
    adx, plus_di, minus_di = ind.adx(bars.high, bars.low, bars.close, 14)
    assert np.isnan(adx[:27]).all() and not np.isnan(adx[27])
    finite = ~np.isnan(adx)
    assert ((adx[finite] >= 0) & (adx[finite] <= 100)).all()
    assert (plus_di[14:] >= 0).all() and (minus_di[14:] >= 0).all()


def test_flat_prices_hit_the_documented_edge_values() -> None:
    flat = np.full(30, 10.0)
    assert (ind.rsi(flat, 14)[14:] == 50.0).all()
    assert (ind.rolling_zscore(flat, 5)[4:] == 0.0).all()
    assert (ind.stochastic(flat, flat, flat, 5, 3)[0][4:] == 50.0).all()
    assert (ind.adx(flat, flat, flat, 5)[0][9:] == 0.0).all()
