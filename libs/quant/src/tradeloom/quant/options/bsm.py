# ruff: noqa: PLR0917 (the textbook order: kind, S, K, T, r, q, σ, as positional arrays)
"""Black-Scholes-Merton price and Greeks of European options in plain numpy float64: the reference
the compiled kernels (``kernels.py``) are tested against.

Inputs broadcast together: ``is_call`` (bool), spot ``s``, strike ``k``, time to expiry ``t`` in
years (> 0), continuously compounded rate ``r``, dividend or carry yield ``q`` and volatility
``sigma`` (a fraction: 0.2 = 20 %). Units of the Greeks:
- ``delta`` ∂V/∂S, ``gamma`` ∂²V/∂S²;
- ``vega`` per volatility point (∂V/∂σ × 0.01);
- ``theta`` per year (∂V/∂t as calendar time passes, i.e. −∂V/∂T) and ``theta_day`` = theta / 365;
- ``rho`` per rate point (∂V/∂r × 0.01).
Black-76 (options on a future or forward ``f``) is BSM with ``s = f`` and ``q = r``, except its rho
(the future's price does not move with the rate): −T × V × 0.01.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]
SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_ERFC = np.frompyfunc(math.erfc, 1, 1)
PER_POINT = 0.01
DAYS_PER_YEAR = 365.0


def norm_cdf(x: ArrayLike) -> F64:
    """Standard normal CDF, accurate in both tails (``erfc``, not ``1 − …``)."""
    values = np.asarray(x, dtype=np.float64)
    return np.asarray(0.5 * _ERFC(-values / SQRT2), dtype=np.float64)


def norm_pdf(x: ArrayLike) -> F64:
    values = np.asarray(x, dtype=np.float64)
    return np.asarray(INV_SQRT_2PI * np.exp(-0.5 * values * values), dtype=np.float64)


@dataclass(frozen=True)
class Greeks:
    price: F64
    delta: F64
    gamma: F64
    vega: F64  # per volatility point
    theta: F64  # per year
    theta_day: F64  # per calendar day
    rho: F64  # per rate point


def checked_inputs(is_call: ArrayLike, *arrays: ArrayLike) -> tuple[np.ndarray, list[F64]]:
    """The option kind and the inputs broadcast together, as float64 (``ValueError`` naming a bad one)."""
    call, *rest = np.broadcast_arrays(
        np.asarray(is_call, dtype=bool), *(np.asarray(a, dtype=np.float64) for a in arrays)
    )
    out = [np.asarray(a, dtype=np.float64) for a in rest]
    s, k, t, _, _, sigma = out
    if np.any(~(s > 0)) or np.any(~(k > 0)):
        raise ValueError("spot and strike must be positive")
    if np.any(~(t > 0)):
        raise ValueError("time to expiry must be positive (years)")
    if np.any(~(sigma > 0)):
        raise ValueError("volatility must be positive")
    return np.asarray(call, dtype=bool), out


def d1_d2(s: F64, k: F64, t: F64, r: F64, q: F64, sigma: F64) -> tuple[F64, F64]:
    root = sigma * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * sigma * sigma) * t) / root
    return d1, d1 - root


def bsm_price(is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
              sigma: ArrayLike) -> F64:  # fmt: skip
    """The price alone (what the reference implied-volatility solver iterates on)."""
    call, (s_, k_, t_, r_, q_, v_) = checked_inputs(is_call, s, k, t, r, q, sigma)
    d1, d2 = d1_d2(s_, k_, t_, r_, q_, v_)
    sign = np.where(call, 1.0, -1.0)
    fwd = s_ * np.exp(-q_ * t_)
    disc = k_ * np.exp(-r_ * t_)
    return np.asarray(sign * (fwd * norm_cdf(sign * d1) - disc * norm_cdf(sign * d2)), dtype=np.float64)


def bsm(is_call: ArrayLike, s: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike, q: ArrayLike,
        sigma: ArrayLike) -> Greeks:  # fmt: skip
    """Price and the five Greeks in one pass."""
    call, (s_, k_, t_, r_, q_, v_) = checked_inputs(is_call, s, k, t, r, q, sigma)
    d1, d2 = d1_d2(s_, k_, t_, r_, q_, v_)
    sign = np.where(call, 1.0, -1.0)
    eq, er = np.exp(-q_ * t_), np.exp(-r_ * t_)
    n1, n2 = norm_cdf(sign * d1), norm_cdf(sign * d2)
    pdf = norm_pdf(d1)
    root_t = np.sqrt(t_)
    price = sign * (s_ * eq * n1 - k_ * er * n2)
    theta = -s_ * eq * pdf * v_ / (2.0 * root_t) - sign * r_ * k_ * er * n2 + sign * q_ * s_ * eq * n1
    return Greeks(
        price=price, delta=sign * eq * n1, gamma=eq * pdf / (s_ * v_ * root_t),
        vega=s_ * eq * pdf * root_t * PER_POINT, theta=theta, theta_day=theta / DAYS_PER_YEAR,
        rho=sign * k_ * t_ * er * n2 * PER_POINT,
    )  # fmt: skip


def black76(is_call: ArrayLike, f: ArrayLike, k: ArrayLike, t: ArrayLike, r: ArrayLike,
            sigma: ArrayLike) -> Greeks:  # fmt: skip
    """Options on a future ``f``: BSM with q = r; rho = −T × price per rate point."""
    g = bsm(is_call, f, k, t, r, r, sigma)
    t_ = np.broadcast_to(np.asarray(t, dtype=np.float64), g.price.shape)
    return Greeks(g.price, g.delta, g.gamma, g.vega, g.theta, g.theta_day, -t_ * g.price * PER_POINT)
