# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Position sizing: how many units an entry buys. Pure functions shared with the paper exchange."""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import SizingMode


@njit(cache=True)
def target_quantity(
    mode: int, value: float, price: float, equity: float, volatility: float, max_leverage: float
) -> float:
    """Units wanted before affordability and rounding (always ≥ 0; NaN volatility gives 0).

    FIXED_QUANTITY: ``value`` units; FIXED_CASH: ``value`` cash; PERCENT_EQUITY: ``value`` × equity
    (1.0 = all in); VOLATILITY_TARGET: equity × ``value`` / ``volatility`` (both annualised), the
    notional capped at ``max_leverage`` × equity.
    """
    if price <= 0.0 or not np.isfinite(price):
        return 0.0
    if mode == SizingMode.FIXED_QUANTITY:
        return max(value, 0.0)
    if mode == SizingMode.FIXED_CASH:
        return max(value, 0.0) / price
    if mode == SizingMode.PERCENT_EQUITY:
        return max(equity * value, 0.0) / price
    if not np.isfinite(volatility) or volatility <= 0.0:
        return 0.0
    notional = min(equity * value / volatility, equity * max_leverage)
    return max(notional, 0.0) / price


@njit(cache=True)
def affordable_quantity(
    wanted: float, price: float, budget: float, fee_rate: float, fixed_fee: float, whole_units: bool
) -> float:
    """``wanted`` reduced so that price × qty × (1 + fee_rate) + fixed_fee ≤ budget, then floored
    to whole units when asked. Never negative.
    """
    unit_cost = price * (1.0 + fee_rate)
    if unit_cost <= 0.0:
        return 0.0
    cap = max(budget - fixed_fee, 0.0) / unit_cost
    quantity = min(wanted, cap)
    if whole_units:
        quantity = np.floor(quantity)
    return max(quantity, 0.0)
