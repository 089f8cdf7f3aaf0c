"""The compiled option kernels (what ``tradeloom.quant.options`` exports) against their plain numpy
reference (``options.bsm`` / ``options.implied``) and against an outside library: py_vollib's
closed forms and analytical Greeks (to 1e-8) and Let's Be Rational's implied volatility (to 1e-10
wherever vega, per volatility point, is above 1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
from py_vollib.black_scholes_merton import black_scholes_merton as vollib_price
from py_vollib.black_scholes_merton.greeks import analytical as vollib_greeks
from py_vollib.black_scholes_merton.implied_volatility import implied_volatility as vollib_iv

from tradeloom.quant.options import black76, bsm, implied_vol, implied_vols
from tradeloom.quant.options.bsm import black76 as reference_black76
from tradeloom.quant.options.bsm import bsm as reference_bsm
from tradeloom.quant.options.implied import implied_vols as reference_implied_vols

FIELDS = ("price", "delta", "gamma", "vega", "theta", "theta_day", "rho")


def random_book(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "is_call": rng.random(n) < 0.5, "s": rng.uniform(20, 200, n), "k": rng.uniform(20, 200, n),
        "t": rng.uniform(0.02, 3.0, n), "r": rng.uniform(-0.01, 0.08, n), "q": rng.uniform(0.0, 0.05, n),
        "sigma": rng.uniform(0.05, 1.2, n),
    }  # fmt: skip


def close(a: np.ndarray, b: np.ndarray, rel: float) -> bool:
    """Equal to ``rel`` relative to the larger magnitude (or absolutely below 1)."""
    return bool(np.all(np.abs(a - b) <= rel * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0)))


def test_the_kernel_equals_the_numpy_reference_on_a_random_book() -> None:
    book = random_book(50_000, seed=11)
    fast, reference = bsm(**book), reference_bsm(**book)
    for field in FIELDS:
        assert close(getattr(fast, field), getattr(reference, field), 1e-12), field
    args = {key: book[key] for key in ("is_call", "k", "t", "r", "sigma")}
    fast76, reference76 = black76(f=book["s"], **args), reference_black76(f=book["s"], **args)
    for field in FIELDS:
        assert close(getattr(fast76, field), getattr(reference76, field), 1e-12), field


def test_shapes_broadcast_and_bad_inputs_are_refused_like_the_reference() -> None:
    g = bsm(True, 100.0, np.array([[90.0], [110.0]]), 0.5, 0.01, 0.0, np.array([0.1, 0.2, 0.3]))
    assert g.price.shape == (2, 3)
    assert close(g.price, reference_bsm(True, 100.0, np.array([[90.0], [110.0]]), 0.5, 0.01, 0.0,
                                        np.array([0.1, 0.2, 0.3])).price, 1e-13)  # fmt: skip
    for bad in ({"s": -1.0}, {"k": 0.0}, {"t": 0.0}, {"sigma": np.nan}):
        args = {"is_call": True, "s": 100.0, "k": 100.0, "t": 1.0, "r": 0.0, "q": 0.0, "sigma": 0.2, **bad}
        with pytest.raises(ValueError):
            bsm(**args)
        with pytest.raises(ValueError):
            reference_bsm(**args)


def test_price_and_greeks_equal_py_vollib_analytical() -> None:
    book = random_book(300, seed=5)
    g = bsm(**book)
    for i in range(300):
        flag = "c" if book["is_call"][i] else "p"
        args = (flag, book["s"][i], book["k"][i], book["t"][i], book["r"][i], book["sigma"][i], book["q"][i])
        expected = {
            "price": vollib_price(*args), "delta": vollib_greeks.delta(*args),
            "gamma": vollib_greeks.gamma(*args), "vega": vollib_greeks.vega(*args),
            "theta_day": vollib_greeks.theta(*args), "rho": vollib_greeks.rho(*args),
        }  # fmt: skip
        for field, value in expected.items():
            assert abs(float(getattr(g, field)[i]) - value) <= 1e-8 * max(abs(value), 1.0), (field, i)


def test_implied_volatility_equals_lets_be_rational_where_vega_matters() -> None:
    book = random_book(2_000, seed=9)
    g = bsm(**book)
    sigma, ok = implied_vols(g.price, book["is_call"], book["s"], book["k"], book["t"], book["r"], book["q"])
    compared = 0
    for i in np.flatnonzero(g.vega > 1e-4):
        flag = "c" if book["is_call"][i] else "p"
        expected = vollib_iv(
            g.price[i], book["s"][i], book["k"][i], book["t"][i], book["r"][i], book["q"][i], flag
        )
        assert ok[i], i
        assert abs(sigma[i] - expected) <= 1e-10, (i, sigma[i], expected)
        compared += 1
    assert compared > 1_500


def test_implied_volatility_equals_the_reference_solver() -> None:
    book = random_book(20_000, seed=3)
    g = bsm(**book)
    args = (g.price, book["is_call"], book["s"], book["k"], book["t"], book["r"], book["q"])
    (fast, fast_ok), (reference, reference_ok) = implied_vols(*args), reference_implied_vols(*args)
    well_posed = g.vega > 1e-4
    assert np.array_equal(fast_ok[well_posed], reference_ok[well_posed])
    assert np.all(np.abs(fast[well_posed] - reference[well_posed]) <= 1e-10)
    assert np.all(np.isnan(fast[~fast_ok]))


def test_no_solution_outside_the_bounds_and_beyond_the_largest_volatility() -> None:
    s, k, t, r, q = 100.0, 100.0, 1.0, 0.05, 0.0
    upper = s  # a call is worth less than the spot (q = 0)
    lower = s - k * np.exp(-r * t)
    prices = np.array([upper, upper + 1, lower, lower - 1, np.nan, -1.0, 0.0])
    sigma, ok = implied_vols(prices, True, s, k, t, r, q)
    assert not ok.any() and np.isnan(sigma).all()
    nearly_upper = float(bsm(True, s, k, t, r, q, 12.0).price)  # needs σ = 1,200 % > SIGMA_MAX
    assert not implied_vols(nearly_upper, True, s, k, t, r, q)[1]
    assert implied_vol(
        float(bsm(False, s, 80.0, t, r, q, 0.35).price), False, s, 80.0, t, r, q
    ) == pytest.approx(0.35, abs=1e-12)


def test_the_serial_kernels_equal_the_parallel_ones_bit_for_bit() -> None:
    from tradeloom.quant.options.implied_kernels import implied_into, implied_into_serial
    from tradeloom.quant.options.kernels import greeks_into, greeks_into_serial

    b = random_book(5_000, seed=13)
    args = (b["is_call"], b["s"], b["k"], b["t"], b["r"], b["q"], b["sigma"])
    parallel, serial = np.empty((7, 5_000)), np.empty((7, 5_000))
    greeks_into(*args, parallel)
    greeks_into_serial(*args, serial)
    assert np.array_equal(parallel, serial)
    price = parallel[0].copy()
    solved = [(np.empty(5_000), np.empty(5_000, dtype=np.bool_)) for _ in range(2)]
    implied_into(price, *args[:-1], *solved[0])
    implied_into_serial(price, *args[:-1], *solved[1])
    assert np.array_equal(solved[0][0], solved[1][0], equal_nan=True)
    assert np.array_equal(solved[0][1], solved[1][1])


def test_prices_needing_more_than_the_largest_volatility_have_no_solution() -> None:
    s, k, t, r, q = 100.0, np.array([60.0, 100.0, 150.0]), 2.0, 0.01, 0.0
    for sigma in (10.5, 15.0, 40.0):
        prices = bsm(True, s, k, t, r, q, sigma).price
        solved, ok = implied_vols(prices, True, s, k, t, r, q)
        inside = prices < s - 1e-9  # else the price is the upper bound to the last bit
        assert not ok[inside].any() and np.isnan(solved[inside]).all(), (sigma, solved)
