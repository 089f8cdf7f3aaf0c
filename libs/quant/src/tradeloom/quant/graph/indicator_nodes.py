"""Indicator node types of builder graphs: ``tradeloom.quant``'s compiled indicators as graph nodes.

One-series indicators read their ``in`` port; those of the bars (ATR, ADX, stochastic, Keltner,
Donchian, VWAP, OBV) read high, low, close and volume themselves and have no inputs.
"""

from __future__ import annotations

from tradeloom.quant import indicators as ind
from tradeloom.quant.graph.node_spec import BANDS, OUT, NodeSpec, n_port, on_input, tuple_on_input, w, window
from tradeloom.quant.strategies.schema import ParamSpec

SRC = (n_port("in"),)

INDICATOR_NODES: tuple[NodeSpec, ...] = (
    NodeSpec("indicator.sma", "simple moving average", SRC, OUT, (window(20),), on_input(ind.sma, "window")),
    NodeSpec(
        "indicator.ema",
        "exponential moving average (SMA-seeded)",
        SRC,
        OUT,
        (window(20),),
        on_input(ind.ema, "window"),
    ),
    NodeSpec(
        "indicator.wma",
        "linearly weighted moving average",
        SRC,
        OUT,
        (window(20),),
        on_input(ind.wma, "window"),
    ),
    NodeSpec(
        "indicator.wilder",
        "Wilder's smoothing (RMA)",
        SRC,
        OUT,
        (window(14),),
        on_input(ind.wilder, "window"),
    ),
    NodeSpec("indicator.rsi", "Wilder's RSI (0–100)", SRC, OUT, (window(14),), on_input(ind.rsi, "window")),
    NodeSpec(
        "indicator.macd",
        "MACD line, signal line and histogram",
        SRC,
        (n_port("line"), n_port("signal"), n_port("histogram")),
        (window(12, "fast"), window(26, "slow"), window(9, "signal")),
        tuple_on_input(ind.macd, "fast", "slow", "signal"),
    ),
    NodeSpec(
        "indicator.bollinger",
        "Bollinger bands: SMA ± k population std",
        SRC,
        BANDS,
        (window(20), ParamSpec("k", float, 2.0, 0.1, 10, "band width in std")),
        tuple_on_input(ind.bollinger, "window", "k"),
    ),
    NodeSpec(
        "indicator.zscore",
        "rolling z-score",
        SRC,
        OUT,
        (window(20),),
        on_input(ind.rolling_zscore, "window"),
    ),
    NodeSpec(
        "indicator.volatility",
        "rolling std of simple returns × √periods_per_year",
        SRC,
        OUT,
        (window(20, minimum=2), ParamSpec("periods_per_year", float, 1.0, 1.0, 1e6, "annualisation")),
        on_input(ind.rolling_volatility, "window", "periods_per_year"),
    ),
    NodeSpec(
        "indicator.true_range",
        "true range of the bars",
        (),
        OUT,
        (),
        lambda _i, _p, b: (ind.true_range(b.high, b.low, b.close),),
        market=True,
    ),
    NodeSpec(
        "indicator.atr",
        "average true range of the bars",
        (),
        OUT,
        (window(14),),
        lambda _i, p, b: (ind.atr(b.high, b.low, b.close, w(p)),),
        market=True,
    ),
    NodeSpec(
        "indicator.adx",
        "Wilder's ADX with +DI and −DI of the bars",
        (),
        (n_port("adx"), n_port("plus_di"), n_port("minus_di")),
        (window(14),),
        lambda _i, p, b: ind.adx(b.high, b.low, b.close, w(p)),
        market=True,
    ),
    NodeSpec(
        "indicator.stochastic",
        "stochastic %K and %D of the bars",
        (),
        (n_port("k"), n_port("d")),
        (window(14, "k_window"), window(3, "d_window"), window(1, "smooth_k")),
        lambda _i, p, b: ind.stochastic(
            b.high, b.low, b.close, w(p, "k_window"), w(p, "d_window"), w(p, "smooth_k")
        ),
        market=True,
    ),
    NodeSpec(
        "indicator.keltner",
        "Keltner channel of the bars",
        (),
        BANDS,
        (window(20), window(10, "atr_window"), ParamSpec("multiplier", float, 2.0, 0.1, 10, "ATRs")),
        lambda _i, p, b: ind.keltner(
            b.high, b.low, b.close, w(p), w(p, "atr_window"), float(p["multiplier"])
        ),
        market=True,
    ),
    NodeSpec(
        "indicator.donchian",
        "Donchian channel of the bars (current bar included)",
        (),
        BANDS,
        (window(20),),
        lambda _i, p, b: ind.donchian(b.high, b.low, w(p)),
        market=True,
    ),
    NodeSpec(
        "indicator.vwap",
        "volume-weighted typical price (window 0: cumulative)",
        (),
        OUT,
        (ParamSpec("window", int, 0, 0, 10_000, "bars, 0 for cumulative"),),
        lambda _i, p, b: (ind.vwap(b.high, b.low, b.close, b.volume, w(p)),),
        market=True,
    ),
    NodeSpec(
        "indicator.obv",
        "on-balance volume of the bars",
        (),
        OUT,
        (),
        lambda _i, _p, b: (ind.obv(b.close, b.volume),),
        market=True,
    ),
)
