"""Options: price plus the five Greeks, and implied volatility, for 1,000,000 European options.

Data: one random book (seed 7) — calls and puts, spot and strike 20–200, expiry 0.02–3 years, rate
−1 %–8 %, yield 0–5 %, volatility 5–120 % — the same arrays for every contender. Contenders:
- ``tradeloom.quant.options`` (the compiled, vectorised kernels: one fused parallel pass; a Halley
  solver in lockstep sweeps);
- a straightforward numpy/scipy vectorised implementation (``scipy.special.ndtr``, the fastest
  normal CDF scipy has; every Greek from the shared d1/d2) and a numpy Newton solver on it;
- py_vollib_vectorized 0.1.1 (its documented vectorised calls, ``return_as="numpy"``; its Greeks
  are finite differences, so correctness is checked against closed forms, not against it).
The implied-volatility inputs are the book's own prices (all inside the no-arbitrage bounds).
Before timing, accuracy is printed: the largest difference from py_vollib's closed forms (price
and Greeks, 2,000 options) and from Let's Be Rational (implied volatility, where vega per point
> 1e-4). Timing: 5 rotating interleaved rounds after a warm-up (bench.harness), medians with min
and max, and per-round ratios. Goals (issue #14): Greeks < 25 ms, ≥ 2× numpy/scipy, ≥ 50×
py_vollib_vectorized; implied volatility < 100 ms, ≥ 3× numpy Newton, ≥ 6× py_vollib_vectorized.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtr

from bench.harness import Contender, header, interleaved, report
from tradeloom.quant.options import bsm, implied_vols

N = 1_000_000
ROUNDS = 5


def book(n: int = N, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "is_call": rng.random(n) < 0.5, "s": rng.uniform(20, 200, n), "k": rng.uniform(20, 200, n),
        "t": rng.uniform(0.02, 3.0, n), "r": rng.uniform(-0.01, 0.08, n), "q": rng.uniform(0.0, 0.05, n),
        "sigma": rng.uniform(0.05, 1.2, n),
    }  # fmt: skip


def numpy_greeks(b: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    s, k, t, r, q, v = b["s"], b["k"], b["t"], b["r"], b["q"], b["sigma"]
    sign = np.where(b["is_call"], 1.0, -1.0)
    root_t = np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / (v * root_t)
    d2 = d1 - v * root_t
    eq, er = np.exp(-q * t), np.exp(-r * t)
    n1, n2 = ndtr(sign * d1), ndtr(sign * d2)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    price = sign * (s * eq * n1 - k * er * n2)
    delta = sign * eq * n1
    gamma = eq * pdf / (s * v * root_t)
    vega = s * eq * pdf * root_t * 0.01
    theta = -s * eq * pdf * v / (2 * root_t) - sign * r * k * er * n2 + sign * q * s * eq * n1
    rho = sign * k * t * er * n2 * 0.01
    return price, delta, gamma, vega, theta, rho


def numpy_newton(price: np.ndarray, b: dict[str, np.ndarray], iterations: int = 100) -> np.ndarray:
    """Newton from 0.5 on every option at once, each kept inside [1e-9, 10]; stops when all moved
    less than 1e-15 relative (a plain vectorised solver, no bracketing)."""
    s, k, t, r, q = b["s"], b["k"], b["t"], b["r"], b["q"]
    sign = np.where(b["is_call"], 1.0, -1.0)
    root_t, fwd, disc = np.sqrt(t), s * np.exp(-q * t), k * np.exp(-r * t)
    log_fk = np.log(fwd / disc)
    x = np.full(price.shape, 0.5)
    for _ in range(iterations):
        root = x * root_t
        d1 = log_fk / root + 0.5 * root
        diff = sign * (fwd * ndtr(sign * d1) - disc * ndtr(sign * (d1 - root))) - price
        vega = fwd * np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi) * root_t
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = np.clip(x - diff / vega, 1e-9, 10.0)
        nxt = np.where(np.isfinite(nxt), nxt, x)
        if np.all(np.abs(nxt - x) <= 1e-15 * np.maximum(x, 1.0)):
            return nxt
        x = nxt
    return x


def accuracy(b: dict[str, np.ndarray]) -> None:
    from py_vollib.black_scholes_merton import black_scholes_merton as price_of
    from py_vollib.black_scholes_merton.greeks import analytical as closed
    from py_vollib.black_scholes_merton.implied_volatility import implied_volatility as lbr

    g = bsm(**b)
    sigma, ok = implied_vols(g.price, b["is_call"], b["s"], b["k"], b["t"], b["r"], b["q"])
    worst_greek = 0.0
    worst_iv = 0.0
    compared = 0
    for i in range(0, N, N // 2_000):
        flag = "c" if b["is_call"][i] else "p"
        args = (flag, b["s"][i], b["k"][i], b["t"][i], b["r"][i], b["sigma"][i], b["q"][i])
        pairs = ((g.price, price_of), (g.delta, closed.delta), (g.gamma, closed.gamma), (g.vega, closed.vega),
                 (g.theta_day, closed.theta), (g.rho, closed.rho))  # fmt: skip
        for ours, theirs in pairs:
            expected = theirs(*args)
            worst_greek = max(worst_greek, abs(float(ours[i]) - expected) / max(abs(expected), 1.0))
        if g.vega[i] > 1e-4:
            expected_iv = lbr(g.price[i], b["s"][i], b["k"][i], b["t"][i], b["r"][i], b["q"][i], flag)
            worst_iv = max(worst_iv, abs(float(sigma[i]) - expected_iv))
            compared += 1
    print(f"   accuracy: price and Greeks vs py_vollib's closed forms, largest relative difference "
          f"{worst_greek:.1e} (2,000 options); implied volatility vs Let's Be Rational, largest "
          f"difference {worst_iv:.1e} ({compared} options with vega > 1e-4); solved {ok.mean():.2%} of "
          f"the book (the rest: price at a bound to the last bit)")  # fmt: skip


def main() -> None:
    warnings.simplefilter("ignore")
    b = book()
    data = "random book (seed 7): calls/puts, S,K 20-200, T 0.02-3 y, r -1..8 %, q 0..5 %, sigma 5-120 %"
    header("options: price + 5 Greeks and implied volatility, 1,000,000 options", data)
    accuracy(b)  # its first bsm() keeps large arrays on the malloc heap: every contender runs with it
    print("   allocator: large arrays on the malloc heap for the whole process (tradeloom.quant.memory),",
          "peers included")  # fmt: skip
    import py_vollib_vectorized as pvv  # it patches py_vollib on import: after the check

    flag = np.where(b["is_call"], "c", "p")
    common = (flag, b["s"], b["k"], b["t"], b["r"], b["sigma"], b["q"])
    kw = {"model": "black_scholes_merton", "return_as": "numpy"}

    def vollib_greeks() -> None:
        pvv.vectorized_black_scholes_merton(*common, return_as="numpy")
        for greek in (pvv.vectorized_delta, pvv.vectorized_gamma, pvv.vectorized_vega,
                      pvv.vectorized_theta, pvv.vectorized_rho):  # fmt: skip
            greek(*common, **kw)

    greeks = interleaved([
        Contender("tradeloom", lambda: bsm(**b), "tradeloom.quant.options.bsm: vectorised Numba, prange"),
        Contender("numpy/scipy", lambda: numpy_greeks(b), "numpy + scipy.special.ndtr, vectorised"),
        Contender("py_vollib_vectorized", vollib_greeks, "py_vollib_vectorized 0.1.1, BSM, return_as=numpy"),
    ], ROUNDS)  # fmt: skip
    print("   price + 5 Greeks:")
    report(greeks, base="tradeloom")

    price = bsm(**b).price
    flags = (price, b["s"], b["k"], b["t"], b["r"], flag, b["q"])
    solver_args = (b["is_call"], b["s"], b["k"], b["t"], b["r"], b["q"])
    ivs = interleaved([
        Contender("tradeloom", lambda: implied_vols(price, *solver_args),
                  "tradeloom.quant.options.implied_vols: Numba prange, vectorised Halley sweeps"),
        Contender("numpy Newton", lambda: numpy_newton(price, b), "numpy Newton from 0.5, vectorised"),
        Contender("py_vollib_vectorized", lambda: pvv.vectorized_implied_volatility(
            *flags, model="black_scholes_merton", return_as="numpy", on_error="ignore"),
            "py_vollib_vectorized 0.1.1: Let's Be Rational, Numba"),
    ], ROUNDS)  # fmt: skip
    print("   implied volatility:")
    report(ivs, base="tradeloom")
    g_ms, iv_ms = greeks["tradeloom"].median * 1e3, ivs["tradeloom"].median * 1e3
    g_np = greeks["numpy/scipy"].median / greeks["tradeloom"].median
    g_pv = greeks["py_vollib_vectorized"].median / greeks["tradeloom"].median
    iv_np = ivs["numpy Newton"].median / ivs["tradeloom"].median
    iv_pv = ivs["py_vollib_vectorized"].median / ivs["tradeloom"].median
    print(f"   goals: Greeks {g_ms:.1f} ms (< 25: {'met' if g_ms < 25 else 'MISSED'}), "
          f"{g_np:.1f}x numpy/scipy (>= 2: {'met' if g_np >= 2 else 'MISSED'}), "
          f"{g_pv:.0f}x py_vollib_vectorized (>= 50: {'met' if g_pv >= 50 else 'MISSED'})")  # fmt: skip
    print(f"          implied volatility {iv_ms:.1f} ms (< 100: {'met' if iv_ms < 100 else 'MISSED'}), "
          f"{iv_np:.1f}x numpy Newton (>= 3: {'met' if iv_np >= 3 else 'MISSED'}), "
          f"{iv_pv:.1f}x py_vollib_vectorized (>= 6: {'met' if iv_pv >= 6 else 'MISSED'})")  # fmt: skip


if __name__ == "__main__":
    main()
