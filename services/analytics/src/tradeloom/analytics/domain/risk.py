"""Risk of a daily return series: volatility, VaR and CVaR three ways, beta and correlation.

Conventions (as ``tradeloom.quant.metrics``): VaR and CVaR are returns at the lower tail, so a loss
is negative (``-0.03`` = a 3 % loss on a bad day at the chosen confidence).
- historical: ``tradeloom.quant``'s ``value_at_risk`` / ``conditional_value_at_risk`` (the
  percentile with linear interpolation; the mean of the worst ``int((n − 1)·α) + 1`` returns);
- parametric (normal): ``μ + σ·z_α`` and ``μ − σ·φ(z_α)/α`` with the sample σ (ddof 1);
- Monte Carlo: ``simulations`` normal draws of ``N(μ, σ)`` from ``numpy.random.default_rng(seed)``,
  then the historical estimators on the draws (same seed, same answer).
Beta and alpha are ``tradeloom.quant``'s ``alpha_beta``; correlation is Pearson's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from tradeloom.quant.metrics import alpha_beta, annual_volatility, conditional_value_at_risk, value_at_risk
from tradeloom.quant.types import FloatArray

PERIODS_PER_YEAR = 365.0


@dataclass(frozen=True)
class TailRisk:
    historical: float
    parametric: float
    monte_carlo: float


def parametric_var(returns: FloatArray, alpha: float) -> tuple[float, float]:
    """Normal VaR and CVaR at tail probability ``alpha``."""
    if returns.size < 2:
        return math.nan, math.nan
    mu, sigma = float(np.mean(returns)), float(np.std(returns, ddof=1))
    z = NormalDist().inv_cdf(alpha)
    return mu + sigma * z, mu - sigma * NormalDist().pdf(z) / alpha


def monte_carlo_var(returns: FloatArray, alpha: float, simulations: int, seed: int) -> tuple[float, float]:
    if returns.size < 2:
        return math.nan, math.nan
    mu, sigma = float(np.mean(returns)), float(np.std(returns, ddof=1))
    draws = np.random.default_rng(seed).normal(mu, sigma, simulations)
    return value_at_risk(draws, alpha), conditional_value_at_risk(draws, alpha)


def tail_risk(
    returns: FloatArray, confidence: float, simulations: int, seed: int
) -> tuple[TailRisk, TailRisk]:
    """(VaR, CVaR) at ``confidence`` (e.g. 0.95: the 5 % tail) by the three methods."""
    alpha = 1.0 - confidence
    p_var, p_cvar = parametric_var(returns, alpha)
    m_var, m_cvar = monte_carlo_var(returns, alpha, simulations, seed)
    var = TailRisk(value_at_risk(returns, alpha), p_var, m_var)
    cvar = TailRisk(conditional_value_at_risk(returns, alpha), p_cvar, m_cvar)
    return var, cvar


def volatility(returns: FloatArray) -> float:
    """Annualised sample volatility of daily returns (365 days a year)."""
    return annual_volatility(returns, PERIODS_PER_YEAR)


def against(returns: FloatArray, benchmark: FloatArray) -> tuple[float, float, float]:
    """(beta, alpha, correlation) of aligned daily returns against a benchmark's."""
    if returns.size < 2 or returns.size != benchmark.size:
        return math.nan, math.nan, math.nan
    alpha, beta = alpha_beta(returns, benchmark, PERIODS_PER_YEAR)
    if np.std(returns) == 0 or np.std(benchmark) == 0:
        return beta, alpha, math.nan
    return beta, alpha, float(np.corrcoef(returns, benchmark)[0, 1])
