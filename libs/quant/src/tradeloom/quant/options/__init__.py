"""European option pricing: Black-Scholes-Merton (dividend or carry yield) and Black-76, the five
Greeks, and implied volatility by a bracketed, safeguarded solver that reports "no solution"
outside the no-arbitrage bounds (conventions: ``bsm``).

The exported functions are the compiled, parallel ones (``fast``/``kernels``); ``bsm`` and
``implied`` are their plain numpy reference."""

from tradeloom.quant.options.bsm import Greeks, norm_cdf
from tradeloom.quant.options.fast import black76, bsm, implied_vol, implied_vols
from tradeloom.quant.options.implied import NoSolution

__all__ = ["Greeks", "NoSolution", "black76", "bsm", "implied_vol", "implied_vols", "norm_cdf"]
