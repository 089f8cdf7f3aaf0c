"""Technical indicators as compiled kernels over float64 arrays (conventions in libs/quant/README.md)."""

from tradeloom.quant.indicators._core import true_range
from tradeloom.quant.indicators.momentum import macd, rsi, stochastic
from tradeloom.quant.indicators.moving_averages import ema, sma, wilder, wma
from tradeloom.quant.indicators.trend import adx
from tradeloom.quant.indicators.volatility import (
    atr,
    bollinger,
    donchian,
    keltner,
    rolling_volatility,
    rolling_zscore,
)
from tradeloom.quant.indicators.volume import obv, vwap

__all__ = [
    "adx",
    "atr",
    "bollinger",
    "donchian",
    "ema",
    "keltner",
    "macd",
    "obv",
    "rolling_volatility",
    "rolling_zscore",
    "rsi",
    "sma",
    "stochastic",
    "true_range",
    "vwap",
    "wilder",
    "wma",
]
