"""Slippage and commission: pure functions shared by the simulator and the paper exchange.

Slippage always moves the price against the trader: a buy pays more, a sell receives less. Limit
fills are passive (maker) and take no slippage; market and stop fills are aggressive (taker).

The helpers taking ``costs`` are inlined into their compiled callers (``inline="always"``): a call
passing ``costs`` reference-counts its three tier arrays with atomic instructions on every fill.
"""

from __future__ import annotations

from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs, SlippageModel
from tradeloom.quant.types import FloatArray


@njit(cache=True, inline="always")
def fillable_quantity(costs: Costs, quantity: float, bar_volume: float) -> float:
    """Quantity that can fill in this bar: under VOLUME_SHARE at most ``volume_cap`` × bar volume."""
    if costs.slippage_model == SlippageModel.VOLUME_SHARE:
        return min(quantity, max(costs.volume_cap * bar_volume, 0.0))
    return quantity


@njit(cache=True, inline="always")
def slipped_price(  # noqa: PLR0917 (compiled: Numba has no keyword-only arguments)
    costs: Costs, side: int, price: float, quantity: float, bar_volume: float, draw: float = 0.0
) -> float:
    """``price`` moved against ``side``.

    FIXED: ``slippage`` price units; PERCENT: ``slippage`` × price; VOLUME_SHARE (zipline's model):
    ``slippage`` (impact coefficient) × price × (quantity / bar volume)²; RANDOM: ``draw`` (the
    fill's ``uniform_draw`` in [0, 1)) × ``slippage`` × price.
    """
    model = costs.slippage_model
    if model == SlippageModel.NONE or quantity == 0.0:
        return price
    if model == SlippageModel.FIXED:
        slip = costs.slippage
    elif model == SlippageModel.PERCENT:
        slip = price * costs.slippage
    elif model == SlippageModel.RANDOM:
        slip = price * costs.slippage * draw
    else:
        share = quantity / bar_volume if bar_volume > 0.0 else 1.0
        slip = price * costs.slippage * share * share
    return price + slip if side > 0 else price - slip


@njit(cache=True)
def tier_rate(thresholds: FloatArray, rates: FloatArray, traded_notional: float) -> float:
    """Rate of the highest tier whose threshold is at or below ``traded_notional`` (first tier below all)."""
    rate = rates[0] if rates.shape[0] > 0 else 0.0
    for k in range(thresholds.shape[0]):
        if traded_notional >= thresholds[k]:
            rate = rates[k]
    return float(rate)


@njit(cache=True, inline="always")
def commission_rate(costs: Costs, is_maker: bool, traded_notional: float) -> float:
    """Proportional rate of the next fill (0 for NONE and FIXED)."""
    model = costs.commission_model
    if model == CommissionModel.PERCENT:
        return costs.maker_rate if is_maker else costs.taker_rate
    if model == CommissionModel.TIERED:
        rates = costs.tier_maker_rates if is_maker else costs.tier_taker_rates
        return tier_rate(costs.tier_thresholds, rates, traded_notional)
    return 0.0


@njit(cache=True, inline="always")
def commission(costs: Costs, notional: float, is_maker: bool, traded_notional: float) -> float:
    """Commission in cash for one fill of ``notional``; ``traded_notional`` (before it) picks the tier."""
    if costs.commission_model == CommissionModel.NONE or notional == 0.0:
        return 0.0
    if costs.commission_model == CommissionModel.FIXED:
        return costs.fixed_fee
    return abs(notional) * commission_rate(costs, is_maker, traded_notional)
