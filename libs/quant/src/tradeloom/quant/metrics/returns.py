"""Return-based metrics on a per-bar return series (empyrical's definitions).

Conventions: ``periods_per_year`` is the annualisation factor of the bar size (252 daily bars,
365 for crypto days, 252 × 6.5 for US-equity hours, 365 × 24 for crypto hours…). ``risk_free`` is
an annual rate turned into a per-bar rate by simple division (``risk_free / periods_per_year``).
"""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.types import FloatArray


def equity_returns(equity: FloatArray, initial: float) -> FloatArray:
    """Simple return of each bar; the first is measured from the initial capital."""
    previous = np.concatenate([[initial], equity[:-1]])
    out: FloatArray = equity / previous - 1.0
    return out


def total_return(equity: FloatArray, initial: float) -> float:
    return float(equity[-1] / initial - 1.0) if equity.size else 0.0


def annual_return(returns: FloatArray, periods_per_year: float, years: float | None = None) -> float:
    """CAGR: compounded growth per year over ``years`` (calendar time, when the caller knows it) or
    else ``len(returns) / periods_per_year`` years."""
    if returns.size == 0:
        return math.nan
    growth = float(np.prod(1.0 + returns))
    if years is None:
        years = returns.size / periods_per_year
    if growth <= 0:
        return -1.0
    with np.errstate(over="ignore"):
        return float(np.power(growth, 1.0 / years)) - 1.0


def annual_volatility(returns: FloatArray, periods_per_year: float) -> float:
    """Sample standard deviation (ddof 1) of per-bar returns times sqrt(periods_per_year)."""
    if returns.size < 2:
        return math.nan
    return float(np.std(returns, ddof=1) * math.sqrt(periods_per_year))


def _flat(values: FloatArray) -> bool:
    return bool(values.size and values.max() == values.min())


def sharpe_ratio(returns: FloatArray, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Mean excess return over its sample std, times sqrt(periods_per_year); NaN when undefined."""
    if returns.size < 2:
        return math.nan
    excess = returns - risk_free / periods_per_year
    std = 0.0 if _flat(excess) else float(np.std(excess, ddof=1))
    mean = float(np.mean(excess))
    if std == 0.0:
        return math.nan if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / std * math.sqrt(periods_per_year)


def downside_risk(returns: FloatArray, periods_per_year: float, required: float = 0.0) -> float:
    """Root mean square of the returns below ``required`` (per bar), annualised."""
    if returns.size == 0:
        return math.nan
    below = np.minimum(returns - required, 0.0)
    return float(np.sqrt(np.mean(below * below)) * math.sqrt(periods_per_year))


def sortino_ratio(returns: FloatArray, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Annualised mean excess return over annualised downside risk (required return = risk-free)."""
    if returns.size < 2:
        return math.nan
    required = risk_free / periods_per_year
    risk = downside_risk(returns, periods_per_year, required)
    mean = float(np.mean(returns - required)) * periods_per_year
    if risk == 0.0:
        return math.nan if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / risk


def value_at_risk(returns: FloatArray, cutoff: float = 0.05) -> float:
    """Historical VaR: the ``cutoff`` percentile of per-bar returns (linear interpolation)."""
    return float(np.percentile(returns, 100 * cutoff)) if returns.size else math.nan


def conditional_value_at_risk(returns: FloatArray, cutoff: float = 0.05) -> float:
    """Expected shortfall: mean of the worst ``int((n − 1) · cutoff) + 1`` returns."""
    if returns.size == 0:
        return math.nan
    index = int((returns.size - 1) * cutoff)
    return float(np.mean(np.partition(returns, index)[: index + 1]))


def alpha_beta(
    returns: FloatArray, benchmark: FloatArray, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """CAPM beta (population covariance / variance of excess returns) and annualised alpha
    ``(1 + mean(r − β·b))^periods_per_year − 1`` on excess returns."""
    if returns.size < 2 or benchmark.size != returns.size:
        return math.nan, math.nan
    rf = risk_free / periods_per_year
    r, b = returns - rf, benchmark - rf
    residual = b - b.mean()
    variance = float(np.mean(residual * residual))
    if variance < 1e-30:
        return math.nan, math.nan
    beta = float(np.mean(residual * r)) / variance
    with np.errstate(over="ignore"):  # a huge alpha is inf, as in empyrical, not an exception
        alpha = float(np.power(1.0 + float(np.mean(r - beta * b)), periods_per_year)) - 1.0
    return alpha, beta
