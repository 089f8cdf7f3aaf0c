"""Portfolio VaR and CVaR of an account's positions from per-bar returns (pure).

Each held symbol's closes give simple returns r = close / previous close − 1, on the bars every
priced symbol has (aligned by bar open). A symbol with fewer than ``lookback + 1`` closes is left
out and named. With exposures e (quantity × mark, signed):

- historical: the PnL series p_t = Σ e_i · r_i,t; VaR_c = −(the (1 − c) percentile of p), CVaR_c =
  −(the mean of the worst ``int((n − 1)(1 − c)) + 1`` of p): ``tradeloom.quant``'s
  ``value_at_risk`` / ``conditional_value_at_risk``;
- parametric (variance-covariance, normal): μ = e · mean(r), σ² = eᵀ Σ e with Σ the sample
  covariance (n − 1) of the returns; VaR_c = z_c σ − μ, CVaR_c = σ φ(z_c) / (1 − c) − μ.

Figures are losses: 0 when even the tail is a gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

import numpy as np

from tradeloom.quant.metrics import conditional_value_at_risk, value_at_risk

CONFIDENCES = (0.95, 0.99)
MONEY = Decimal("0.00000001")


@dataclass(frozen=True)
class Measure:
    var: Decimal
    cvar: Decimal


@dataclass(frozen=True)
class PortfolioVar:
    bars: int  # returns used
    from_ns: int | None  # open of the first bar whose return is used
    to_ns: int | None
    insufficient: list[str]
    historical: dict[float, Measure]  # by confidence
    parametric: dict[float, Measure]


ZERO = {c: Measure(Decimal(0), Decimal(0)) for c in CONFIDENCES}


def _money(loss: float) -> Decimal:
    return Decimal(repr(max(loss, 0.0))).quantize(MONEY)


def aligned_returns(
    closes: dict[str, list[tuple[int, Decimal]]], lookback: int
) -> tuple[list[int], dict[str, np.ndarray], list[str]]:
    """(bar opens, returns per symbol, symbols left out) over the last ``lookback`` common bars."""
    short = sorted(
        s for s, bars in closes.items() if len(bars) < lookback + 1 or min(c for _, c in bars) <= 0
    )
    usable = {s: dict(bars[-(lookback + 1) :]) for s, bars in closes.items() if s not in short}
    if not usable:
        return [], {}, short
    common = sorted(set.intersection(*(set(bars) for bars in usable.values())))
    if len(common) < 2:
        return [], {}, sorted(closes)
    returns = {}
    for symbol, bars in usable.items():
        series = np.array([float(bars[t]) for t in common])
        returns[symbol] = series[1:] / series[:-1] - 1.0
    return common[1:], returns, short


def portfolio_var(
    exposures: dict[str, Decimal], closes: dict[str, list[tuple[int, Decimal]]], lookback: int
) -> PortfolioVar:
    """VaR and CVaR at 95 % and 99 % of ``exposures`` (symbol → quantity × mark)."""
    opens, returns, short = aligned_returns({s: closes.get(s, []) for s in exposures}, lookback)
    if not returns:
        return PortfolioVar(0, None, None, short, dict(ZERO), dict(ZERO))
    symbols = sorted(returns)
    weights = np.array([float(exposures[s]) for s in symbols])
    matrix = np.vstack([returns[s] for s in symbols])  # symbols × bars
    pnl = weights @ matrix
    historical = {
        c: Measure(_money(-value_at_risk(pnl, 1 - c)), _money(-conditional_value_at_risk(pnl, 1 - c)))
        for c in CONFIDENCES
    }
    mean = float(weights @ matrix.mean(axis=1))
    covariance = np.atleast_2d(np.cov(matrix, ddof=1))
    sigma = math.sqrt(max(float(weights @ covariance @ weights), 0.0))
    normal = NormalDist()
    parametric = {}
    for c in CONFIDENCES:
        z = normal.inv_cdf(c)
        parametric[c] = Measure(_money(z * sigma - mean), _money(sigma * normal.pdf(z) / (1 - c) - mean))
    return PortfolioVar(len(opens), opens[0], opens[-1], short, historical, parametric)


def fraction(money: Decimal, equity: Decimal | None) -> Decimal | None:
    """``money`` / ``equity`` (8 places); None without a positive equity."""
    if equity is None or equity <= 0:
        return None
    return (money / equity).quantize(MONEY)
