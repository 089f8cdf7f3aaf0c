"""Pure numerics for Tradeloom: no I/O, no platform imports (see libs/quant/README.md).

Subpackages: ``backtest`` (a built-in strategy's whole backtest in one call), ``indicators``
(compiled indicator kernels), ``fills`` (fill, slippage, commission and sizing rules shared with
the paper exchange), ``simulator`` (the bar-by-bar backtest kernel and trade records), ``metrics``
(performance metrics), ``strategies`` (built-in signal kernels and parameter schemas), ``optimise``
(grid/random search and walk-forward), ``options`` (Black-Scholes-Merton and Black-76 prices,
Greeks and implied volatility), ``margin`` (perpetuals' tiered maintenance margin and
isolated/cross liquidation prices), ``reference`` (plain implementations the kernels are tested
against).
"""

__all__ = [
    "backtest",
    "fills",
    "indicators",
    "margin",
    "metrics",
    "optimise",
    "options",
    "reference",
    "simulator",
    "strategies",
]
