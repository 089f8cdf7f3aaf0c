"""Option pricing, Greeks and implied volatility: textbook worked examples (Hull), an independent
scipy closed form on random inputs, finite differences of the price, put-call parity, and the
implied-volatility round trip with "no solution" outside the no-arbitrage bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from tradeloom.quant.options import NoSolution, black76, bsm, implied_vol, implied_vols
from tradeloom.quant.options.bsm import bsm_price


def random_book(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "is_call": rng.random(n) < 0.5, "s": rng.uniform(20, 200, n), "k": rng.uniform(20, 200, n),
        "t": rng.uniform(0.02, 3.0, n), "r": rng.uniform(-0.01, 0.08, n), "q": rng.uniform(0.0, 0.05, n),
        "sigma": rng.uniform(0.05, 1.2, n),
    }  # fmt: skip


def scipy_reference(is_call, s, k, t, r, q, sigma):  # type: ignore[no-untyped-def]
    """The textbook closed forms written independently with scipy's normal distribution."""
    d1 = (np.log(s / k) + (r - q + sigma**2 / 2) * t) / (sigma * np.sqrt(t))
    d2 = d1 - sigma * np.sqrt(t)
    call_price = s * np.exp(-q * t) * norm.cdf(d1) - k * np.exp(-r * t) * norm.cdf(d2)
    put_price = k * np.exp(-r * t) * norm.cdf(-d2) - s * np.exp(-q * t) * norm.cdf(-d1)
    common_theta = -s * np.exp(-q * t) * norm.pdf(d1) * sigma / (2 * np.sqrt(t))
    return {
        "price": np.where(is_call, call_price, put_price),
        "delta": np.where(is_call, np.exp(-q * t) * norm.cdf(d1), -np.exp(-q * t) * norm.cdf(-d1)),
        "gamma": np.exp(-q * t) * norm.pdf(d1) / (s * sigma * np.sqrt(t)),
        "vega": s * np.exp(-q * t) * norm.pdf(d1) * np.sqrt(t) / 100,
        "theta": np.where(
            is_call,
            common_theta - r * k * np.exp(-r * t) * norm.cdf(d2) + q * s * np.exp(-q * t) * norm.cdf(d1),
            common_theta + r * k * np.exp(-r * t) * norm.cdf(-d2) - q * s * np.exp(-q * t) * norm.cdf(-d1),
        ),
        "rho": np.where(
            is_call, k * t * np.exp(-r * t) * norm.cdf(d2), -k * t * np.exp(-r * t) * norm.cdf(-d2)
        )
        / 100,
    }


def test_hull_worked_examples() -> None:
    """Hull, Options, Futures and Other Derivatives: S=42, K=40, r=10 %, σ=20 %, T=0.5 → call 4.76,
    put 0.81 (ex. 15.6); Black-76 F=20, K=20, r=9 %, σ=25 %, T=4/12 → put 1.12 (ex. 18.6)."""
    g = bsm([True, False], 42.0, 40.0, 0.5, 0.10, 0.0, 0.20)
    assert g.price == pytest.approx([4.76, 0.81], abs=0.005)
    assert float(black76(False, 20.0, 20.0, 4 / 12, 0.09, 0.25).price) == pytest.approx(1.12, abs=0.005)
    # Hull ex. 19.1 (delta of a call, S=49, K=50, r=5 %, σ=20 %, T=0.3846): 0.522; gamma 0.066
    h = bsm(True, 49.0, 50.0, 0.3846, 0.05, 0.0, 0.20)
    assert (float(h.delta), float(h.gamma)) == (
        pytest.approx(0.522, abs=5e-4),
        pytest.approx(0.066, abs=5e-4),
    )
    assert float(h.theta_day) == pytest.approx(-4.31 / 365, abs=5e-4)  # theta −4.31 a year
    assert float(h.vega) == pytest.approx(0.121, abs=5e-4)  # 12.1 per unit of σ
    assert float(h.rho) == pytest.approx(0.089, abs=5e-4)  # 8.91 per unit of r


def test_price_and_greeks_equal_an_independent_scipy_closed_form() -> None:
    book = random_book(2000)
    mine = bsm(**book)
    expected = scipy_reference(**book)
    for name, values in expected.items():
        np.testing.assert_allclose(getattr(mine, name), values, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(mine.theta_day * 365, mine.theta, rtol=1e-15)


def test_greeks_are_the_derivatives_of_the_price() -> None:
    book = {k: v[:300] for k, v in random_book(300, seed=11).items()}
    g = bsm(**book)

    def price(**change: np.ndarray) -> np.ndarray:
        return bsm_price(**{**book, **change})

    s, h = book["s"], 1e-4 * book["s"]
    np.testing.assert_allclose(g.delta, (price(s=s + h) - price(s=s - h)) / (2 * h), atol=1e-6)
    np.testing.assert_allclose(g.gamma, (price(s=s + h) - 2 * g.price + price(s=s - h)) / h**2, atol=1e-4)
    e = 1e-6
    vega = (price(sigma=book["sigma"] + e) - price(sigma=book["sigma"] - e)) / (2 * e)
    np.testing.assert_allclose(g.vega, vega / 100, atol=1e-6)
    rho = (price(r=book["r"] + e) - price(r=book["r"] - e)) / (2 * e)
    np.testing.assert_allclose(g.rho, rho / 100, atol=1e-6)
    theta = -(price(t=book["t"] + e) - price(t=book["t"] - e)) / (2 * e)
    np.testing.assert_allclose(g.theta, theta, atol=1e-5)


def test_put_call_parity() -> None:
    book = random_book(2000, seed=3)
    calls = bsm(**{**book, "is_call": True}).price
    puts = bsm(**{**book, "is_call": False}).price
    forward = book["s"] * np.exp(-book["q"] * book["t"]) - book["k"] * np.exp(-book["r"] * book["t"])
    np.testing.assert_allclose(calls - puts, forward, atol=1e-10)


def test_implied_volatility_round_trip_where_vega_is_not_negligible() -> None:
    book = random_book(5000, seed=5)
    prices = bsm(**book)
    sigma, ok = implied_vols(
        prices.price, book["is_call"], book["s"], book["k"], book["t"], book["r"], book["q"]
    )
    meaningful = prices.vega > 1e-6  # per point: 1e-4 per unit of σ
    assert ok[meaningful].all()
    error = np.abs(sigma - book["sigma"])
    # to 1e-10 where vega (per point) > 1e-4; below that, to what the price's rounding allows: a few
    # units in its last place (2.2e-16 × price) divided by vega per unit of σ
    assert np.all(error[prices.vega > 1e-4] <= 1e-10)
    with np.errstate(divide="ignore"):
        allowed = 64 * np.finfo(float).eps * np.maximum(prices.price, book["s"]) / (prices.vega * 100)
    assert np.all(error[meaningful] <= np.maximum(allowed[meaningful], 1e-10))
    assert implied_vol(4.759422392871532, True, 42.0, 40.0, 0.5, 0.10) == pytest.approx(0.2, abs=1e-10)


def test_no_solution_outside_the_no_arbitrage_bounds() -> None:
    intrinsic = 42.0 - 40.0 * math.exp(-0.05)  # a call at or below S − K·e^{−rT} has no volatility
    prices = np.array([intrinsic - 0.01, intrinsic, 42.0, 43.0, -1.0, math.nan])
    sigma, ok = implied_vols(prices, True, 42.0, 40.0, 0.5, 0.10, 0.0)
    assert not ok.any() and np.isnan(sigma).all()
    with pytest.raises(NoSolution, match="strictly between"):
        implied_vol(0.5, True, 42.0, 40.0, 0.5, 0.10)
    with pytest.raises(NoSolution):
        implied_vol(39.0, False, 42.0, 40.0, 0.5, 0.10)  # a put is worth less than K·e^{−rT} (38.05)
    with pytest.raises(ValueError, match="volatility"):
        bsm(True, 42.0, 40.0, 0.5, 0.1, 0.0, 0.0)
