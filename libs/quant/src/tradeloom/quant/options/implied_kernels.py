# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Implied volatility of many options, vectorised: the safeguarded Halley solver of ``kernels.py``
(``_solve_one``) run on a block of options in lockstep.

A block of ``BLOCK`` options is first prepared in one loop (bounds, the out-of-the-money twin,
Corrado-Miller's start); then each sweep takes one step of ``_solve_one``'s iteration for every
option still unsolved, as selects rather than branches, so LLVM vectorises it (``vecmath`` has no
calls). The step is ``_solve_one``'s, operation for operation, so an option solved here gets the same
σ. Once a quarter of the options in a sweep are solved, the unsolved ones are moved to the front
and the next sweeps step only those (most options need 2 or 3 steps, a block's slowest 4 or 5).
Sweeps stop when the whole block is solved or after ``MAX_SWEEPS``; an option left unsolved then,
or whose bracket closed (``_solve_one``'s rare exit through the loop's end), is solved again from
the start by the scalar ``_implied_at``. Options outside the no-arbitrage bounds never enter a sweep.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tradeloom.quant.options import vecmath as vm
from tradeloom.quant.options.kernels import (
    INV_SQRT_2PI,
    PRICE_TOL,
    SIGMA_MAX,
    SIGMA_MIN,
    SIGMA_TOL,
    STEP_DONE,
    _implied_at,
    _start,
)
from tradeloom.quant.types import FloatArray

BLOCK = 1024
MAX_SWEEPS = 8
NONE, ACTIVE, SOLVED, SCALAR = 0, 1, 2, 3  # an option's state in a block


@njit(cache=True, error_model="numpy")
def _implied_block(
    lo: int, hi: int, price: FloatArray, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray,
    r: FloatArray, q: FloatArray, sigma: FloatArray, ok: np.ndarray,
) -> None:  # fmt: skip
    n = hi - lo
    state = np.empty(n, dtype=np.int64)
    x_, lo_, hi_ = np.empty(n), np.empty(n), np.empty(n)
    sign_, fwd_, disc_, target_ = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    root_t_, log_fk_, log_target_ = np.empty(n), np.empty(n), np.empty(n)
    lo_[:] = SIGMA_MIN
    hi_[:] = SIGMA_MAX
    # Unsigned indices: no wraparound select for negative ones (it would keep the loops scalar). Each
    # loop writes few enough arrays for LLVM's run-time overlap checks (at most 128 pairs: 9 outputs
    # × 7 inputs + 36 output pairs here; with lo and hi too it is 132, and the loop stays scalar).
    for j in range(np.uint64(0), np.uint64(n)):
        i = np.uint64(lo) + j
        p0 = price[i]
        fwd = s[i] * vm.exp(-q[i] * t[i])
        disc = k[i] * vm.exp(-r[i] * t[i])
        sign = 1.0 if call[i] else -1.0
        intrinsic = sign * (fwd - disc)
        lower = intrinsic if intrinsic > 0.0 else 0.0
        upper = fwd if call[i] else disc
        # ``&``, not ``and``: selects, not branches (a NaN price fails every comparison)
        inside = (s[i] > 0.0) & (k[i] > 0.0) & (t[i] > 0.0) & (lower < p0) & (p0 < upper)
        # _solve_one's out-of-the-money twin
        target = p0 - intrinsic if intrinsic > 0.0 else p0
        sign = -sign if intrinsic > 0.0 else sign
        state[j] = ACTIVE if inside & (target > 0.0) else NONE
        x_[j] = _start(target, sign, fwd, disc, t[i])
        sign_[j], fwd_[j], disc_[j], target_[j] = sign, fwd, disc, target
        root_t_[j] = math.sqrt(t[i])
        log_fk_[j] = vm.log(fwd / disc)
        log_target_[j] = vm.log(target)
    # Sweeps over the first m options of the arrays; ``where[j]``: the block's option in place j.
    where = np.arange(n)
    final_state, final_x = state.copy(), x_.copy()
    m = n
    for _ in range(MAX_SWEEPS):
        active = 0
        for j in range(np.uint64(0), np.uint64(m)):
            active += _sweep(
                j, state, x_, lo_, hi_, sign_, fwd_, disc_, target_, root_t_, log_fk_, log_target_
            )
        if active == 0:
            break
        if 4 * active <= 3 * m:  # a quarter or more solved: step only the others from now on
            m = _compact(m, where, state, x_, lo_, hi_, sign_, fwd_, disc_, target_, root_t_, log_fk_,
                         log_target_, final_state, final_x)  # fmt: skip
    for j in range(m):
        final_state[where[j]], final_x[where[j]] = state[j], x_[j]
    for j in range(n):
        if final_state[j] == SOLVED:
            sigma[lo + j] = final_x[j]
            ok[lo + j] = True
        elif final_state[j] == NONE:
            sigma[lo + j] = np.nan
            ok[lo + j] = False
        else:
            _implied_at(lo + j, price, call, s, k, t, r, q, sigma, ok)


@njit(cache=True, inline="always")
def _compact(
    m: int, where: np.ndarray, state: np.ndarray, x_: FloatArray, lo_: FloatArray, hi_: FloatArray,
    sign_: FloatArray, fwd_: FloatArray, disc_: FloatArray, target_: FloatArray, root_t_: FloatArray,
    log_fk_: FloatArray, log_target_: FloatArray, final_state: np.ndarray, final_x: FloatArray,
) -> int:  # fmt: skip
    """The options still unsolved move to the front (their order kept) and their count is returned,
    so the next sweeps do not step the solved ones again; the solved ones' results are kept."""
    w = 0
    for j in range(m):
        if state[j] != ACTIVE:
            final_state[where[j]], final_x[where[j]] = state[j], x_[j]
            continue
        where[w], state[w], x_[w], lo_[w], hi_[w] = where[j], state[j], x_[j], lo_[j], hi_[j]
        sign_[w], fwd_[w], disc_[w], target_[w] = sign_[j], fwd_[j], disc_[j], target_[j]
        root_t_[w], log_fk_[w], log_target_[w] = root_t_[j], log_fk_[j], log_target_[j]
        w += 1
    return w


@njit(cache=True, inline="always", error_model="numpy")
def _sweep(
    j: int | np.uint64, state: np.ndarray, x_: FloatArray, lo_: FloatArray, hi_: FloatArray,
    sign_: FloatArray, fwd_: FloatArray, disc_: FloatArray, target_: FloatArray, root_t_: FloatArray,
    log_fk_: FloatArray, log_target_: FloatArray,
) -> int:  # fmt: skip
    """One iteration of ``_solve_one``'s loop for option j, branch-free; 1 if it stays active."""
    x, lo, hi, sign, fwd, disc = x_[j], lo_[j], hi_[j], sign_[j], fwd_[j], disc_[j]
    target, root_t = target_[j], root_t_[j]
    root = x * root_t
    d1 = log_fk_[j] / root + 0.5 * root
    d2 = d1 - root
    p = sign * (fwd * vm.ncdf(sign * d1) - disc * vm.ncdf(sign * d2))
    diff = p - target
    matched = abs(diff) <= PRICE_TOL * target  # the price is matched to rounding: σ cannot improve
    lo = x if diff < 0.0 else lo
    hi = hi if diff < 0.0 else x
    vega = fwd * INV_SQRT_2PI * vm.exp(-0.5 * d1 * d1) * root_t
    g = vm.log(p) - log_target_[j]
    g1 = vega / p
    g2 = vega * d1 * d2 / x / p - g1 * g1
    denominator = g1 * g1 - 0.5 * g * g2
    step = x - g * g1 / denominator if (p > 0.0 and denominator != 0.0) else np.nan
    converged = abs(step - x) <= STEP_DONE * x and lo <= step <= hi and step < SIGMA_MAX
    nxt = step if (math.isfinite(step) and lo < step < hi) else 0.5 * (lo + hi)
    closed = hi - lo <= SIGMA_TOL * x
    was = state[j]
    live = was == ACTIVE
    new = SOLVED if (matched or converged) else (SCALAR if closed else ACTIVE)
    state[j] = new if live else was
    x_[j] = (x if matched else (step if converged else nxt)) if live else x
    lo_[j] = lo if live else lo_[j]
    hi_[j] = hi if live else hi_[j]
    return 1 if (live and new == ACTIVE) else 0


@njit(cache=True, parallel=True)
def implied_into(
    price: FloatArray, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
    q: FloatArray, sigma: FloatArray, ok: np.ndarray,
) -> None:  # fmt: skip
    """``sigma[i]`` and ``ok[i]`` of every option, blocks in parallel: NaN and False outside the
    no-arbitrage bounds, for a non-positive spot, strike or time, or where σ would exceed SIGMA_MAX."""
    n = price.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        _implied_block(b * BLOCK, min(b * BLOCK + BLOCK, n), price, call, s, k, t, r, q, sigma, ok)


@njit(cache=True)
def implied_into_serial(
    price: FloatArray, call: np.ndarray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
    q: FloatArray, sigma: FloatArray, ok: np.ndarray,
) -> None:  # fmt: skip
    """``implied_into`` in the calling thread (a few options): the same blocks, the same results."""
    n = price.shape[0]
    for b in range((n + BLOCK - 1) // BLOCK):
        _implied_block(b * BLOCK, min(b * BLOCK + BLOCK, n), price, call, s, k, t, r, q, sigma, ok)
