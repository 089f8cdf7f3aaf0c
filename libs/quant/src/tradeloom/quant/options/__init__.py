"""European option pricing: Black-Scholes-Merton (dividend or carry yield) and Black-76, the five
Greeks, and implied volatility by a bracketed, safeguarded Newton solver that reports "no solution"
outside the no-arbitrage bounds (conventions: ``bsm``)."""

from tradeloom.quant.options.bsm import Greeks, black76, bsm, norm_cdf
from tradeloom.quant.options.implied import NoSolution, implied_vol, implied_vols

__all__ = ["Greeks", "NoSolution", "black76", "bsm", "implied_vol", "implied_vols", "norm_cdf"]
