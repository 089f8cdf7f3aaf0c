"""A chain page's figures as plain columns (one array per field), computed in one vectorised pass.

Both chain replies are built from these columns: the published one (``options_chain``, a model per
strike) and the columnar one (``options_chain_columns``, lists per field, no model per strike). The
call of strike ``strikes[i]`` is index ``i`` of every array, its put index ``n + i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeloom.quant.options import Greeks, bsm, implied_vols
from tradeloom.quant.options.bsm import F64

GREEK_NAMES = ("price", "delta", "gamma", "vega", "theta", "theta_day", "rho")
VENUE_NAMES = ("mark", "mark_iv", "bid_iv", "ask_iv", "delta", "gamma", "theta", "vega")


@dataclass(frozen=True)
class ChainColumns:
    """The calls then the puts of ``strikes``; ``quotes`` the raw quote of each (``{}``: none)."""

    strikes: list[float]
    symbols: list[str | None]  # None: no such option listed
    quotes: list[dict[str, Any]]
    bid: F64
    ask: F64
    mid: F64
    last: F64
    iv_mid: F64
    iv_bid: F64
    iv_ask: F64
    greeks: Greeks

    @property
    def n(self) -> int:
        return len(self.strikes)


def chain_columns(  # noqa: PLR0917
    options: list[dict[str, Any]],
    quotes: dict[str, dict[str, Any]],
    spot: float,
    years: float,
    rate: float,
    dividend_yield: float,
    volatility: float,
) -> ChainColumns:
    """Bid/ask/mid/last, the implied volatility of each side (``implied_vols``, Black-Scholes-Merton)
    and the Greeks at the mid's implied volatility (else at ``volatility``) of every listed option."""
    strikes = sorted({float(o["strike"]) for o in options})
    by_key = {(float(o["strike"]), o["option_type"]): o for o in options}
    keys = [(k, "call") for k in strikes] + [(k, "put") for k in strikes]
    listed = [by_key.get(key) for key in keys]
    sides = [quotes.get(o["symbol"], {}) if o is not None else {} for o in listed]
    bid, ask, last = (
        np.array([number(q.get(name)) for q in sides], dtype=np.float64) for name in ("bid", "ask", "last")
    )
    symbols = [None if o is None else str(o["symbol"]) for o in listed]
    return _figures(
        strikes, symbols, sides, (bid, ask, last), spot, years, (rate, dividend_yield, volatility)
    )


def chain_columns_of(  # noqa: PLR0917
    symbols: list[str],
    is_call: np.ndarray[Any, np.dtype[np.bool_]],
    strike: F64,
    bid: F64,
    ask: F64,
    spot: float,
    years: float,
    rate: float,
    dividend_yield: float,
    volatility: float,
) -> ChainColumns:
    """``chain_columns`` of a listing already in columns (market-data's ``option_chain_quotes``:
    one entry per option, ordered by strike then symbol, no last price): the same figures without
    a dict per option; a strike and type listed twice keeps the later option, as there."""
    strikes = np.unique(strike)
    n = len(strikes)
    slot = np.full(2 * n, -1, dtype=np.int64)
    slot[np.searchsorted(strikes, strike) + np.where(is_call, 0, n)] = np.arange(len(strike))
    present = slot >= 0
    take = np.where(present, slot, 0)

    def pick(values: F64) -> F64:
        return np.where(present, values[take], np.nan) if len(values) else np.full(2 * n, np.nan)

    named = np.array(symbols, dtype=object)[take] if len(symbols) else np.full(2 * n, None, dtype=object)
    named[~present] = None
    listed: list[str | None] = named.tolist()
    prices = (pick(bid), pick(ask), np.full(2 * n, np.nan))
    return _figures(
        strikes.tolist(), listed, [{}] * (2 * n), prices, spot, years, (rate, dividend_yield, volatility)
    )


def _figures(  # noqa: PLR0917
    strikes: list[float],
    listed: list[str | None],
    sides: list[dict[str, Any]],
    prices: tuple[F64, F64, F64],
    spot: float,
    years: float,
    model: tuple[float, float, float],
) -> ChainColumns:
    """The implied volatilities and Greeks of the calls then the puts of ``strikes`` from their
    bid/ask/last (``model``: rate, dividend yield, the volatility where no mid gives one)."""
    bid, ask, last = prices
    rate, dividend_yield, volatility = model
    n = len(strikes)
    is_call = np.concatenate([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    mid = (bid + ask) / 2  # NaN unless both sides are quoted
    k = np.array(strikes * 2, dtype=np.float64)

    def ivs(prices: F64) -> F64:
        vols, _ = implied_vols(prices, is_call, spot, k, years, rate, dividend_yield)
        return np.asarray(vols, dtype=np.float64)

    iv_bid, iv_ask, iv_mid = ivs(bid), ivs(ask), ivs(mid)
    sigma = np.where(np.isfinite(iv_mid), iv_mid, volatility)
    greeks = bsm(is_call, spot, k, years, rate, dividend_yield, sigma)
    return ChainColumns(strikes, listed, sides, bid, ask, mid, last, iv_mid, iv_bid, iv_ask, greeks)


def nullable(values: F64, present: np.ndarray[Any, np.dtype[np.bool_]] | None = None) -> list[float | None]:
    """A column for the wire: Python floats, ``None`` where not finite (or not ``present``)."""
    keep = np.isfinite(values) if present is None else np.isfinite(values) & present
    boxed = values.astype(object)
    boxed[~keep] = None
    result: list[float | None] = boxed.tolist()
    return result


def number(value: str | float | None) -> float:
    return float("nan") if value is None else float(value)
