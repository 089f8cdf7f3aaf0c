# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Compiled (Numba, parallel) Black-Scholes-Merton: price and the five Greeks in one fused pass, and
the implied-volatility solver for one option (``implied_kernels.py`` runs it on many), over 1-D
float64 arrays of equal length (``fast.py`` broadcasts and checks). exp, log and the normal CDF come
from ``vecmath.py`` (branch-free arithmetic, no libm calls), so the loops over options vectorise.

They compute what the plain numpy reference (``bsm.py``, ``implied.py``) computes, with the same
conventions; ``tests/test_options_kernels.py`` compares them on random books and on the edge cases.
The implied-volatility solver is the reference's safeguarded Newton (a bracket that always holds the
root, bisection when a step leaves it) with two changes that only make it faster: it starts from the
Corrado-Miller approximation instead of 0.5, and it takes Halley steps (the second derivative,
vomma = vega·d1·d2/σ, costs no further transcendental function).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tradeloom.quant.options import vecmath as vm
from tradeloom.quant.types import FloatArray

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2PI = math.sqrt(2.0 * math.pi)
PER_POINT = 0.01
DAYS_PER_YEAR = 365.0
SIGMA_MIN = 1e-9
SIGMA_MAX = 10.0
MAX_ITERATIONS = 100
SIGMA_TOL = 1e-15
PRICE_TOL = 8 * 2.0**-52  # relative: a few units in the last place of the target price
# A Halley step this small (relative) is the last one needed: the error after a step is of the order
# of the cube of the step, here ~1e-15 (2.7 evaluations per option on average instead of 3.8).
STEP_DONE = 1e-5
BLOCK = 512  # options per vectorised loop (7 output rows of 4 KB: in L1/L2 while written)
PRICE, DELTA, GAMMA, VEGA, THETA, THETA_DAY, RHO = range(7)


@njit(cache=True, inline="always", error_model="numpy")
def _ncdf(x: float) -> float:
    return vm.ncdf(x)


@njit(cache=True, inline="always", error_model="numpy")
def _greeks_at(
    i: int, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
    sigma: FloatArray, price: FloatArray, delta: FloatArray, gamma: FloatArray, vega: FloatArray,
    theta: FloatArray, theta_day: FloatArray, rho: FloatArray,
) -> None:  # fmt: skip
    """Option i, with no call and no branch (``vecmath``): a loop of these is vectorised by LLVM."""
    sign = 1.0 if call[i] else -1.0
    root_t = math.sqrt(t[i])
    root = sigma[i] * root_t
    d1 = (vm.log(s[i] / k[i]) + (r[i] - q[i] + 0.5 * sigma[i] * sigma[i]) * t[i]) / root
    d2 = d1 - root
    eq = vm.exp(-q[i] * t[i])
    er = vm.exp(-r[i] * t[i])
    n1 = vm.ncdf(sign * d1)
    n2 = vm.ncdf(sign * d2)
    pdf = INV_SQRT_2PI * vm.exp(-0.5 * d1 * d1)
    th = (
        -s[i] * eq * pdf * sigma[i] / (2.0 * root_t)
        - sign * r[i] * k[i] * er * n2
        + sign * q[i] * s[i] * eq * n1
    )
    price[i] = sign * (s[i] * eq * n1 - k[i] * er * n2)
    delta[i] = sign * eq * n1
    gamma[i] = eq * pdf / (s[i] * sigma[i] * root_t)
    vega[i] = s[i] * eq * pdf * root_t * PER_POINT
    theta[i] = th
    theta_day[i] = th / DAYS_PER_YEAR
    rho[i] = sign * k[i] * t[i] * er * n2 * PER_POINT


@njit(cache=True, parallel=True, error_model="numpy")
def _greeks_rows(
    call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
    sigma: FloatArray, price: FloatArray, delta: FloatArray, gamma: FloatArray, vega: FloatArray,
    theta: FloatArray, theta_day: FloatArray, rho: FloatArray,
) -> None:  # fmt: skip
    """Blocks of ``BLOCK`` options in parallel, each one vectorised loop (``_greeks_range``). Every
    output row is passed as its own 1-D array: unit-stride streams whose overlap LLVM checks once per
    loop at run time (it allows at most 128 such pointer pairs; here 7 outputs × 8 inputs + 21)."""
    n = s.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        _greeks_range(b * BLOCK, min(b * BLOCK + BLOCK, n), call, s, k, t, r, q, sigma, price, delta, gamma,
                      vega, theta, theta_day, rho)  # fmt: skip


@njit(cache=True, error_model="numpy")
def _greeks_range(
    lo: int, hi: int, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
    q: FloatArray, sigma: FloatArray, price: FloatArray, delta: FloatArray, gamma: FloatArray,
    vega: FloatArray, theta: FloatArray, theta_day: FloatArray, rho: FloatArray,
) -> None:  # fmt: skip
    # An unsigned index: Numba adds no wraparound select for negative indices, which would keep LLVM
    # from vectorising (a loop from a literal 0 is proven non-negative; one from ``lo`` is not).
    for i in range(np.uint64(lo), np.uint64(hi)):
        _greeks_at(i, call, s, k, t, r, q, sigma, price, delta, gamma, vega, theta, theta_day, rho)


@njit(cache=True)
def greeks_into(
    call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
    sigma: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    """``out[PRICE..RHO, i]`` for every option i (the units of ``bsm.Greeks``), options in parallel."""
    _greeks_rows(call, s, k, t, r, q, sigma, out[PRICE], out[DELTA], out[GAMMA], out[VEGA], out[THETA],
                 out[THETA_DAY], out[RHO])  # fmt: skip


@njit(cache=True)
def greeks_into_serial(
    call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
    sigma: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    """``greeks_into`` in the calling thread: for a few options, where waking the worker threads costs
    more than the work (and stalls on a loaded machine). No reassociation, explicit FMAs: the same
    results as the parallel kernel, bit for bit."""
    _greeks_range(0, s.shape[0], call, s, k, t, r, q, sigma, out[PRICE], out[DELTA], out[GAMMA], out[VEGA],
                        out[THETA], out[THETA_DAY], out[RHO])  # fmt: skip


@njit(cache=True, inline="always")
def _price_at(sign: float, fwd: float, disc: float, log_fk: float, root_t: float, sigma: float) -> float:
    root = sigma * root_t
    d1 = log_fk / root + 0.5 * root
    return sign * (fwd * _ncdf(sign * d1) - disc * _ncdf(sign * (d1 - root)))


@njit(cache=True, inline="always")
def _start(target: float, sign: float, fwd: float, disc: float, t: float) -> float:
    """Corrado-Miller's approximation of σ (on the call price: a put through parity), clamped."""
    c = target if sign > 0.0 else target + fwd - disc
    half = 0.5 * (fwd - disc)
    inner = (c - half) * (c - half) - (fwd - disc) * (fwd - disc) / math.pi
    inner = inner if inner > 0.0 else 0.0  # selects, not calls: the vectorised solver inlines this
    guess = SQRT_2PI / math.sqrt(t) / (fwd + disc) * (c - half + math.sqrt(inner))
    clamped = 3.0 if guess > 3.0 else (guess if guess > 0.01 else 0.01)
    return clamped if abs(guess) < math.inf else 0.5


@njit(cache=True)
def _solve_one(target: float, sign: float, fwd: float, disc: float, t: float) -> float:
    """σ of one option already known to lie inside the no-arbitrage bounds; NaN if it needs
    σ > SIGMA_MAX. An in-the-money option is solved as its out-of-the-money twin (put-call parity:
    the same σ), whose price is all time value; the steps are Halley's on log(price) − log(target),
    which converges in a few steps even far out of the money, where the price is tiny."""
    intrinsic = sign * (fwd - disc)
    if intrinsic > 0.0:
        target -= intrinsic
        sign = -sign
    if not target > 0.0:  # all intrinsic value to the last bit: no volatility is implied
        return np.nan
    root_t = math.sqrt(t)
    log_fk = vm.log(fwd / disc)
    log_target = vm.log(target)
    lo, hi = SIGMA_MIN, SIGMA_MAX
    x = _start(target, sign, fwd, disc, t)
    for _ in range(MAX_ITERATIONS):
        root = x * root_t
        d1 = log_fk / root + 0.5 * root
        d2 = d1 - root
        p = sign * (fwd * _ncdf(sign * d1) - disc * _ncdf(sign * d2))
        diff = p - target
        if abs(diff) <= PRICE_TOL * target:  # the price is matched to rounding: σ cannot improve
            return x
        if diff < 0.0:
            lo = x
        else:
            hi = x
        step = np.nan
        if p > 0.0:
            vega = fwd * INV_SQRT_2PI * vm.exp(-0.5 * d1 * d1) * root_t
            g = vm.log(p) - log_target
            g1 = vega / p
            g2 = vega * d1 * d2 / x / p - g1 * g1
            denominator = g1 * g1 - 0.5 * g * g2
            if denominator != 0.0:
                step = x - g * g1 / denominator
        # converged (a NaN step compares False); never beyond what the bracket or SIGMA_MAX allows
        if abs(step - x) <= STEP_DONE * x and lo <= step <= hi and step < SIGMA_MAX:
            return step
        nxt = step if (math.isfinite(step) and lo < step < hi) else 0.5 * (lo + hi)
        if hi - lo <= SIGMA_TOL * x:
            x = nxt
            break
        x = nxt
    if x > 0.999 * SIGMA_MAX and _price_at(sign, fwd, disc, log_fk, root_t, SIGMA_MAX) < target:
        return np.nan
    return x


@njit(cache=True, inline="always")
def _implied_at(
    i: int, price: FloatArray, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
    q: FloatArray, sigma: FloatArray, ok: np.ndarray,
) -> None:  # fmt: skip
    sigma[i] = np.nan
    ok[i] = False
    if not (s[i] > 0.0 and k[i] > 0.0 and t[i] > 0.0 and math.isfinite(price[i])):
        return
    fwd = s[i] * vm.exp(-q[i] * t[i])
    disc = k[i] * vm.exp(-r[i] * t[i])
    sign = 1.0 if call[i] else -1.0
    lower = max(sign * (fwd - disc), 0.0)
    upper = fwd if call[i] else disc
    if not (lower < price[i] < upper):
        return
    x = _solve_one(price[i], sign, fwd, disc, t[i])
    if math.isfinite(x):
        sigma[i] = x
        ok[i] = True
