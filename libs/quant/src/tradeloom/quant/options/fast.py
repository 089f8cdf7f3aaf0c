# ruff: noqa: PLR0917 (the textbook order: kind, S, K, T, r, q, σ, as positional arrays)
"""The compiled option functions with the reference's signatures: inputs broadcast together and are
checked as ``bsm.py`` checks them, then one parallel pass (``kernels.py``) computes every option.
These are what ``tradeloom.quant.options`` exports; ``bsm.py`` and ``implied.py`` stay as the plain
numpy reference the kernels are tested against."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from tradeloom.quant.memory import heap_reuse_once
from tradeloom.quant.options.bsm import F64, PER_POINT, Greeks, checked_inputs
from tradeloom.quant.options.implied import SIGMA_MAX, NoSolution, price_bounds
from tradeloom.quant.options.implied_kernels import implied_into, implied_into_serial
from tradeloom.quant.options.kernels import (
    DELTA,
    GAMMA,
    PRICE,
    RHO,
    THETA,
    THETA_DAY,
    VEGA,
    greeks_into,
    greeks_into_serial,
)

# Below this many options the calling thread does the work: waking Numba's worker threads costs more
# than the options, and on a loaded machine a parallel pass waits for its slowest thread. Measured
# for a 4,000-option chain at load 11 on 2 cores (200 calls each): implied volatility p50 0.11 ms
# parallel vs 0.20 ms serial, but p99 30.5 ms vs 4.5 ms; Greeks p99 19.4 vs 4.1 ms. Serial costs
# about 50 ns an option, so 32,768 options stay under ~2 ms.
PARALLEL_FROM = 32_768


def _flat(a: np.ndarray, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype).ravel()


def bsm(is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
        sigma: ArrayLike) -> Greeks:  # fmt: skip
    """Price and the five Greeks in one fused, parallel pass (units: ``bsm.Greeks``). The seven output
    rows of a large book come from the malloc heap (``heap_reuse_once``): faulting in 56 MB of fresh
    pages for 1,000,000 options cost about 7 ms of the pass's 28."""
    heap_reuse_once()
    call, arrays = checked_inputs(is_call, s, k, t, r, q, sigma)
    shape = call.shape
    s_, k_, t_, r_, q_, v_ = (_flat(a, np.float64) for a in arrays)
    out = np.empty((7, call.size))
    kernel = greeks_into if call.size >= PARALLEL_FROM else greeks_into_serial
    kernel(_flat(call, np.bool_), s_, k_, t_, r_, q_, v_, out)
    rows = [out[i].reshape(shape) for i in (PRICE, DELTA, GAMMA, VEGA, THETA, THETA_DAY, RHO)]
    return Greeks(*rows)


def black76(is_call: ArrayLike, f: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
            sigma: ArrayLike) -> Greeks:  # fmt: skip
    """Options on a future ``f``: BSM with q = r; rho = −T × price per rate point."""
    g = bsm(is_call, f, k, t, r, r, sigma)
    t_ = np.broadcast_to(np.asarray(t, dtype=np.float64), g.price.shape)
    return Greeks(g.price, g.delta, g.gamma, g.vega, g.theta, g.theta_day, -t_ * g.price * PER_POINT)


def implied_vols(price: ArrayLike, is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike,
                 r: ArrayLike, q: ArrayLike) -> tuple[F64, np.ndarray]:  # fmt: skip
    """(σ, ok) per option; σ is NaN where ``ok`` is False (no solution)."""
    heap_reuse_once()
    target, call, *rest = np.broadcast_arrays(
        np.asarray(price, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
        *(np.asarray(a, dtype=np.float64) for a in (s, k, t, r, q)),
    )
    shape = target.shape
    sigma = np.empty(target.size)
    ok = np.empty(target.size, dtype=np.bool_)
    s_, k_, t_, r_, q_ = (_flat(a, np.float64) for a in rest)
    solver = implied_into if target.size >= PARALLEL_FROM else implied_into_serial
    solver(_flat(target, np.float64), _flat(call, np.bool_), s_, k_, t_, r_, q_, sigma, ok)
    return sigma.reshape(shape), ok.reshape(shape)


def implied_vol(price: float, is_call: bool, s: float, k: float, t: float, r: float, q: float = 0.0) -> float:
    """σ of one option; ``NoSolution`` saying why when there is none."""
    sigma, ok = implied_vols(price, is_call, s, k, t, r, q)
    if not bool(ok):
        lower, upper = price_bounds(is_call, s, k, t, r, q)
        raise NoSolution(
            f"no volatility gives the price {price}: it must lie strictly between {float(lower):.10g} and "
            f"{float(upper):.10g} and need σ ≤ {SIGMA_MAX:g}"
        )
    return float(sigma)
