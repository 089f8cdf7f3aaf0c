# ruff: noqa: PLR0917 (the textbook order: kind, S, K, T, r, q, σ, as positional arrays)
"""Implied volatility of European options (BSM with a yield; Black-76 through ``q = r``).

The price is increasing in σ, so a solution exists exactly when the price lies strictly inside the
no-arbitrage bounds — a call in (max(0, S·e^{−qT} − K·e^{−rT}), S·e^{−qT}), a put in
(max(0, K·e^{−rT} − S·e^{−qT}), K·e^{−rT}) — and the σ reaching it is at most ``SIGMA_MAX``.
Otherwise the answer is "no solution" (NaN and ``ok`` False; ``NoSolution`` for one option), never
a wrong number. Solver: Newton steps kept inside a bracket [lo, hi] that always holds the root,
falling back to bisection when a step leaves it or vega vanishes (as robust as bisection, as fast
as Newton near the root).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from tradeloom.quant.options.bsm import F64, bsm_price, d1_d2, norm_pdf

SIGMA_MIN = 1e-9
SIGMA_MAX = 10.0  # 1,000 % a year
MAX_ITERATIONS = 200
SIGMA_TOL = 1e-15  # relative: the step below which σ is final


class NoSolution(ValueError):
    """No volatility gives this price: it is outside the no-arbitrage bounds (or needs σ > 1,000 %)."""


def price_bounds(is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
                 q: ArrayLike) -> tuple[F64, F64]:  # fmt: skip
    """(lower, upper) no-arbitrage bounds of the price."""
    call = np.asarray(is_call, dtype=bool)
    fwd = np.asarray(s, dtype=np.float64) * np.exp(
        -np.asarray(q, dtype=np.float64) * np.asarray(t, dtype=np.float64)
    )
    disc = np.asarray(k, dtype=np.float64) * np.exp(
        -np.asarray(r, dtype=np.float64) * np.asarray(t, dtype=np.float64)
    )
    lower = np.maximum(np.where(call, fwd - disc, disc - fwd), 0.0)
    upper = np.where(call, fwd, disc)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def implied_vols(price: ArrayLike, is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike,
                 r: ArrayLike, q: ArrayLike) -> tuple[F64, np.ndarray]:  # fmt: skip
    """(σ, ok) per option; σ is NaN where ``ok`` is False (no solution)."""
    arrays = np.broadcast_arrays(
        np.asarray(price, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
        *(np.asarray(a, dtype=np.float64) for a in (s, k, t, r, q)),
    )
    target, call, s_, k_, t_, r_, q_ = (np.array(a) for a in arrays)
    lower, upper = price_bounds(call, s_, k_, t_, r_, q_)
    ok = np.isfinite(target) & (target > lower) & (target < upper) & (s_ > 0) & (k_ > 0) & (t_ > 0)
    sigma = np.full(target.shape, np.nan)
    idx = np.flatnonzero(ok)
    if idx.size:
        solved, found = _solve(target.ravel()[idx], call.ravel()[idx], s_.ravel()[idx], k_.ravel()[idx],
                               t_.ravel()[idx], r_.ravel()[idx], q_.ravel()[idx])  # fmt: skip
        flat_ok, flat_sigma = ok.ravel(), sigma.ravel()
        flat_sigma[idx] = np.where(found, solved, np.nan)
        flat_ok[idx] = found
        ok, sigma = flat_ok.reshape(target.shape), flat_sigma.reshape(target.shape)
    return sigma, ok


def _solve(target: F64, call: np.ndarray, s: F64, k: F64, t: F64, r: F64, q: F64) -> tuple[F64, np.ndarray]:
    lo = np.full(target.shape, SIGMA_MIN)
    hi = np.full(target.shape, SIGMA_MAX)
    found = bsm_price(call, s, k, t, r, q, hi) >= target  # else it needs σ > SIGMA_MAX
    x = np.full(target.shape, 0.5)
    active = found.copy()
    for _ in range(MAX_ITERATIONS):
        if not active.any():
            break
        a = np.flatnonzero(active)
        diff = bsm_price(call[a], s[a], k[a], t[a], r[a], q[a], x[a]) - target[a]
        lo[a] = np.where(diff < 0, x[a], lo[a])
        hi[a] = np.where(diff > 0, x[a], hi[a])
        d1, _ = d1_d2(s[a], k[a], t[a], r[a], q[a], x[a])
        vega = s[a] * np.exp(-q[a] * t[a]) * norm_pdf(d1) * np.sqrt(t[a])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x[a] - diff / vega
        inside = np.isfinite(step) & (step > lo[a]) & (step < hi[a])
        nxt = np.where(inside, step, 0.5 * (lo[a] + hi[a]))
        exact = diff == 0
        done = (
            exact
            | (np.abs(nxt - x[a]) <= SIGMA_TOL * np.maximum(x[a], 1.0))
            | (hi[a] - lo[a] <= SIGMA_TOL * x[a])
        )
        x[a] = np.where(exact, x[a], nxt)
        active[a[done]] = False
    return x, found
