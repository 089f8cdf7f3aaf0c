"""The branch-free exp, log and normal CDF the option kernels are built from (``options/vecmath.py``),
against ``math`` and ``scipy.special.ndtr`` over their whole range: extremes, subnormals, special
values, and properties on random inputs (hypothesis)."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from scipy.special import ndtr

from tradeloom.quant.options import vecmath as vm

SMALLEST_NORMAL = 2.2250738585072014e-308
CODY_MIDDLE = vm.CODY_MIDDLE
EXAMPLES = settings(max_examples=200, deadline=None)


@njit(cache=True, error_model="numpy")
def _map(kind: int, x: np.ndarray, out: np.ndarray) -> None:  # the same vectorised loop as the kernels
    for i in range(x.shape[0]):
        out[i] = vm.exp(x[i]) if kind == 0 else (vm.log(x[i]) if kind == 1 else vm.ncdf(x[i]))


def apply(kind: int, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _map(kind, np.ascontiguousarray(x, dtype=np.float64), out)
    return out


def ulps(ours: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.asarray(np.abs(ours - exact) / np.spacing(np.abs(exact)))


def test_exp_is_within_an_ulp_from_underflow_to_overflow() -> None:
    rng = np.random.default_rng(1)
    edges = [-708.4, -708.3, 709.78, 0.0, -0.0, 1e-300]
    x = np.concatenate([rng.uniform(-745.2, 709.78, 200_000), rng.uniform(-1, 1, 50_000),
                        np.linspace(-0.35, 0.35, 1_001), edges])  # fmt: skip
    ours, exact = apply(0, x), np.exp(x)
    normal = exact >= SMALLEST_NORMAL
    assert ulps(ours[normal], exact[normal]).max() <= 1.0
    # subnormal results: the one rounding of the final product (an absolute error below 2^-1074)
    assert np.all(np.abs(ours[~normal] - exact[~normal]) <= 5e-324)


def test_exp_special_values() -> None:
    x = np.array([np.inf, -np.inf, np.nan, 709.8, 1e6, -745.2, -746.0, -1e6])
    with np.errstate(over="ignore"):
        assert np.array_equal(apply(0, x), np.exp(x), equal_nan=True)
    assert vm.exp(0.0) == 1.0


def test_log_is_within_an_ulp_including_subnormals() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([np.exp(rng.uniform(-744, 709, 200_000)), rng.uniform(0.5, 2.0, 50_000),
                        [5e-324, 1e-310, SMALLEST_NORMAL, 1.0, np.nextafter(1.0, 2), np.nextafter(1.0, 0),
                         1.7976931348623157e308]])  # fmt: skip
    ours, exact = apply(1, x), np.log(x)
    assert ulps(ours, exact).max() <= 1.0
    assert apply(1, np.array([1.0]))[0] == 0.0


def test_log_special_values() -> None:
    x = np.array([0.0, -0.0, -1.0, -np.inf, np.inf, np.nan])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.array_equal(apply(1, x), np.log(x), equal_nan=True)


def exact_ncdf(x: float) -> float:
    """Φ(x) = ½·erfc(−x/√2), correcting ``math.erfc`` for the rounding of −x/√2 (which alone costs up
    to x² ulps in the tails) by its first-order term."""
    getcontext().prec = 40
    h = 1.0 / math.sqrt(2.0)
    h_lo = float(Decimal(1) / Decimal(2).sqrt() - Decimal(h))
    u = -x * h
    du = float(Fraction(-x) * Fraction(h) - Fraction(u)) + (-x) * h_lo
    return 0.5 * (math.erfc(u) - 2.0 / math.sqrt(math.pi) * math.exp(-u * u) * du)


def test_ncdf_is_within_a_few_ulps_in_both_tails() -> None:
    rng = np.random.default_rng(3)
    edges = [-37.5, -CODY_MIDDLE, -0.66291, 0.0, 0.66291, CODY_MIDDLE, 8.3]
    x = np.concatenate([rng.uniform(-38.4, 9.0, 20_000), rng.uniform(-1, 1, 5_000), edges,
                        np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])  # fmt: skip
    ours = apply(2, x)
    exact = np.array([exact_ncdf(v) for v in x])
    normal = exact >= SMALLEST_NORMAL
    assert ulps(ours[normal], exact[normal]).max() <= 8.0
    assert np.all(np.abs(ours[~normal] - exact[~normal]) <= 1e-320)
    # and scipy, whose tails carry the rounding of −x/√2 (about x² ulps) and which stops at x ≈ −37.5
    theirs = ndtr(x)
    both = theirs >= SMALLEST_NORMAL
    assert np.all(np.abs(ours - theirs)[both] <= (2.3e-16 * (x * x + 8.0) * theirs)[both])


def test_ncdf_special_values_and_far_tails() -> None:
    x = np.array([np.inf, -np.inf, np.nan, -40.0, -1e10, 40.0, 1e300, 0.0])
    assert np.array_equal(apply(2, x), np.array([1.0, 0.0, np.nan, 0.0, 0.0, 1.0, 1.0, 0.5]), equal_nan=True)


@EXAMPLES
@given(st.floats(-38.0, 38.0))
def test_ncdf_symmetry_and_monotonicity(x: float) -> None:
    lo, at, hi = apply(2, np.array([np.nextafter(x, -np.inf), x, np.nextafter(x, np.inf)]))
    assert abs(at + float(apply(2, np.array([-x]))[0]) - 1.0) <= 4.5e-16
    assert lo <= at + 4e-16 * at and at <= hi + 4e-16 * hi


@EXAMPLES
@given(st.floats(-700.0, 700.0), st.floats(-1e-13, 1e-13))
def test_exp_of_a_sum_and_log_of_exp(a: float, b: float) -> None:
    assert abs(vm.exp2(a, b * abs(a)) - math.exp(a) * (1.0 + b * abs(a))) <= 8e-16 * math.exp(a)
    assert abs(vm.log(vm.exp(a)) - a) <= 4e-16 * max(abs(a), 1.0) + 1e-16
