# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Where an order fills inside one bar. Pure functions shared by the simulator and the paper exchange.

A bar is (open, high, low). Gaps are honoured: when the bar opens through a limit or stop level the
fill is at the open, otherwise at the level itself. A market order fills at the reference price the
caller gives (the bar's open, or the signal bar's close when filling on close).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import OrderType


@njit(cache=True)
def limit_fill_price(side: int, level: float, bar_open: float, high: float, low: float) -> float:
    """Buy limit fills at or below ``level``, sell limit at or above; NaN when the bar never reaches it."""
    if side > 0:
        if bar_open <= level:
            return bar_open
        return level if low <= level else np.nan
    if bar_open >= level:
        return bar_open
    return level if high >= level else np.nan


@njit(cache=True)
def stop_fill_price(side: int, level: float, bar_open: float, high: float, low: float) -> float:
    """Buy stop triggers at or above ``level``, sell stop at or below; NaN when not triggered."""
    if side > 0:
        if bar_open >= level:
            return bar_open
        return level if high >= level else np.nan
    if bar_open <= level:
        return bar_open
    return level if low <= level else np.nan


@njit(cache=True)
def order_fill_price(
    order_type: int, side: int, level: float, reference: float, high: float, low: float
) -> float:
    """Fill price of an order in a bar whose first tradable price is ``reference`` (NaN: no fill)."""
    if order_type == OrderType.MARKET:
        return reference
    if order_type == OrderType.LIMIT:
        return limit_fill_price(side, level, reference, high, low)
    return stop_fill_price(side, level, reference, high, low)


@njit(cache=True)
def trailing_stop_level(side: int, extreme: float, distance: float, fraction: float) -> float:
    """Trigger level of a trailing stop order of ``side`` that has seen ``extreme`` so far.

    A sell stop trails the highest price by ``distance`` price units, or by ``fraction`` of it when
    ``distance`` is NaN; a buy stop trails the lowest price from above. Feed the level to
    ``stop_fill_price`` (the simulator's trailing exit uses the same fractional rule).
    """
    offset = extreme * fraction if np.isnan(distance) else distance
    return extreme - offset if side < 0 else extreme + offset
