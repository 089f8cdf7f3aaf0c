"""Portfolio backtests: one cash balance over a basket of symbols (see ``api.py``, ``kernel.py``)."""

from tradeloom.quant.portfolio.api import (
    BasketError,
    PortfolioResult,
    SymbolBars,
    basket_weights,
    run_portfolio,
)
from tradeloom.quant.portfolio.kernel import TRADE_FIELDS, simulate_portfolio

__all__ = [
    "TRADE_FIELDS",
    "BasketError",
    "PortfolioResult",
    "SymbolBars",
    "basket_weights",
    "run_portfolio",
    "simulate_portfolio",
]
