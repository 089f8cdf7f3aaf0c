"""Risk figures on a worked example and against trusted libraries (scipy, empyrical-reloaded)."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pytest
from scipy import stats

from tradeloom.analytics.domain.risk import against, monte_carlo_var, parametric_var, tail_risk, volatility

RETURNS = np.array([0.01, -0.02, 0.03, -0.01, 0.0])


def test_parametric_worked_example() -> None:
    """mean 0.002, sample std sqrt(0.00148 / 4) = 0.0192354; z(5 %) = −1.6448536, φ(z) = 0.1031356:
    VaR = 0.002 − 1.6448536 × 0.0192354 = −0.0296394; CVaR = 0.002 − 0.0192354 × 0.1031356 / 0.05
    = 0.002 − 0.0396771 = −0.0376771."""
    var, cvar = parametric_var(RETURNS, 0.05)
    assert var == pytest.approx(-0.0296394, abs=1e-7)
    assert cvar == pytest.approx(-0.0376771, abs=1e-7)


def test_parametric_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(0.001, 0.02, 500)
    mu, sigma = returns.mean(), returns.std(ddof=1)
    for alpha in (0.01, 0.05, 0.1):
        var, cvar = parametric_var(returns, alpha)
        assert var == pytest.approx(stats.norm.ppf(alpha, mu, sigma), rel=1e-12)
        expected = (
            stats.norm.expect(lambda x: x, loc=mu, scale=sigma, ub=stats.norm.ppf(alpha, mu, sigma)) / alpha
        )
        assert cvar == pytest.approx(expected, rel=1e-7)


def test_historical_matches_empyrical_and_monte_carlo_is_seeded() -> None:
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0005, 0.015, 400)
    var, cvar = tail_risk(returns, 0.95, 200_000, seed=3)
    assert var.historical == pytest.approx(empyrical.value_at_risk(returns, cutoff=0.05), rel=1e-12)
    assert cvar.historical == pytest.approx(
        empyrical.conditional_value_at_risk(returns, cutoff=0.05), rel=1e-12
    )
    assert monte_carlo_var(returns, 1 - 0.95, 200_000, 3) == (var.monte_carlo, cvar.monte_carlo)  # same seed
    assert monte_carlo_var(returns, 1 - 0.95, 200_000, 4) != (var.monte_carlo, cvar.monte_carlo)
    # a normal sample of 200,000 draws lands near the closed form
    assert var.monte_carlo == pytest.approx(var.parametric, abs=5e-4)
    assert cvar.monte_carlo == pytest.approx(cvar.parametric, abs=5e-4)
    assert volatility(returns) == pytest.approx(returns.std(ddof=1) * math.sqrt(365), rel=1e-12)


def test_beta_and_correlation_match_empyrical_and_scipy() -> None:
    rng = np.random.default_rng(5)
    bench = rng.normal(0.0, 0.02, 300)
    returns = 0.5 * bench + rng.normal(0.0, 0.01, 300)
    beta, _, correlation = against(returns, bench)
    assert beta == pytest.approx(empyrical.beta(returns, bench), rel=1e-9)
    assert correlation == pytest.approx(stats.pearsonr(returns, bench).statistic, rel=1e-12)
    assert all(math.isnan(x) for x in against(returns[:1], bench[:1]))
