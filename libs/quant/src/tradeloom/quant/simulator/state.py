# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Position bookkeeping for the compiled simulator: enter, exit, stops, trade records.

The running state lives in one small float64 array (indices below) so helpers can update it in place.
The fill helpers are inlined into the simulator loops (``inline="always"``): a call that passes an
array reference-counts it with atomic instructions, which wait for the loop's pending stores to drain.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.costs import commission, commission_rate, fillable_quantity, slipped_price
from tradeloom.quant.fills.draws import uniform_draw
from tradeloom.quant.fills.models import CommissionModel, Costs, SizingMode, SlippageModel
from tradeloom.quant.fills.prices import limit_fill_price, stop_fill_price
from tradeloom.quant.fills.sizing import affordable_quantity, target_quantity
from tradeloom.quant.simulator.config import (
    STOP_LOSS_EXIT,
    TAKE_PROFIT_EXIT,
    TRAILING_STOP_EXIT,
    SimulationConfig,
)
from tradeloom.quant.types import FloatArray

CASH, POSITION, ENTRY_PRICE, ENTRY_INDEX, ENTRY_FEE, PEAK, LOWEST, HIGHEST, TRADED, TRADES, FILLS = range(11)
STATE_SIZE = 11


@njit(cache=True)
def new_state(initial_cash: float) -> FloatArray:
    state = np.zeros(STATE_SIZE)
    state[CASH] = initial_cash
    return state


@njit(cache=True, inline="always")
def fill_draw(state: FloatArray, costs: Costs) -> float:
    """The next fill's uniform draw under RANDOM slippage (0 otherwise): draw number = fills so far."""
    if costs.slippage_model != SlippageModel.RANDOM:
        return 0.0
    return uniform_draw(costs.slippage_seed, int(state[FILLS]))


@njit(cache=True, inline="always")
def enter(
    state: FloatArray,
    direction: int,
    reference: float,
    is_maker: bool,
    bar_volume: float,
    volatility: float,
    index: int,
    config: SimulationConfig,
    costs: Costs,
) -> bool:
    """Open a position from flat at ``reference`` (before slippage). False when nothing is affordable."""
    equity = state[CASH]
    wanted = target_quantity(
        config.sizing_mode, config.sizing_value, reference, equity, volatility, config.max_leverage
    )
    wanted = fillable_quantity(costs, wanted, bar_volume)
    leverage = config.max_leverage if config.sizing_mode == SizingMode.VOLATILITY_TARGET else 1.0
    rate = commission_rate(costs, is_maker, state[TRADED])
    fixed = costs.fixed_fee if costs.commission_model == CommissionModel.FIXED else 0.0
    draw = fill_draw(state, costs)
    price = reference if is_maker else slipped_price(costs, direction, reference, wanted, bar_volume, draw)
    quantity = affordable_quantity(wanted, price, equity * leverage, rate, fixed, config.whole_units)
    if quantity <= 0.0:
        return False
    if not is_maker:
        price = slipped_price(costs, direction, reference, quantity, bar_volume, draw)
    fee = commission(costs, quantity * price, is_maker, state[TRADED])
    state[POSITION] = direction * quantity
    state[CASH] -= direction * quantity * price + fee
    state[ENTRY_PRICE] = price
    state[ENTRY_INDEX] = index
    state[ENTRY_FEE] = fee
    state[PEAK] = price
    state[LOWEST] = price
    state[HIGHEST] = price
    state[TRADED] += quantity * price
    state[FILLS] += 1
    return True


@njit(cache=True, inline="always")
def record_trade(
    state: FloatArray, trades: FloatArray, price: float, fee: float, index: int, reason: int
) -> None:
    """Append the current position as a trade closed at ``price`` with exit ``fee``."""
    position = state[POSITION]
    direction = 1.0 if position > 0 else -1.0
    size = abs(position)
    entry = state[ENTRY_PRICE]
    low = min(state[LOWEST], price)
    high = max(state[HIGHEST], price)
    fees = state[ENTRY_FEE] + fee
    pnl = direction * (price - entry) * size - fees
    row = int(state[TRADES])
    trades[row, 0] = direction
    trades[row, 1] = state[ENTRY_INDEX]
    trades[row, 2] = index
    trades[row, 3] = entry
    trades[row, 4] = price
    trades[row, 5] = size
    trades[row, 6] = pnl
    trades[row, 7] = pnl / (entry * size)
    trades[row, 8] = fees
    trades[row, 9] = (low - entry) / entry if direction > 0 else (entry - high) / entry
    trades[row, 10] = (high - entry) / entry if direction > 0 else (entry - low) / entry
    trades[row, 11] = reason
    state[TRADES] += 1


@njit(cache=True, inline="always")
def exit_position(
    state: FloatArray,
    trades: FloatArray,
    reference: float,
    is_maker: bool,
    bar_volume: float,
    index: int,
    reason: int,
    costs: Costs,
) -> None:
    """Close the whole position at ``reference`` (slippage unless passive) and record the trade."""
    position = state[POSITION]
    side = -1 if position > 0 else 1
    size = abs(position)
    price = reference if is_maker else slipped_price(costs, side, reference, size, bar_volume,
                                                      fill_draw(state, costs))  # fmt: skip
    fee = commission(costs, size * price, is_maker, state[TRADED])
    state[CASH] += position * price - fee
    state[TRADED] += size * price
    state[FILLS] += 1
    record_trade(state, trades, price, fee, index, reason)
    state[POSITION] = 0.0


@njit(cache=True)
def check_exits(
    state: FloatArray,
    trades: FloatArray,
    bar_open: float,
    high: float,
    low: float,
    bar_volume: float,
    index: int,
    config: SimulationConfig,
    costs: Costs,
) -> bool:
    """Stop-loss, trailing stop, then take-profit within one bar; True when the position was closed.

    Both stops and the target hit in one bar: the stop is assumed first (the pessimistic order).
    """
    direction = 1.0 if state[POSITION] > 0 else -1.0
    entry = state[ENTRY_PRICE]
    level = np.nan
    reason = STOP_LOSS_EXIT
    if not np.isnan(config.stop_loss):
        level = entry * (1.0 - direction * config.stop_loss)
    if not np.isnan(config.trailing_stop):
        trail = state[PEAK] * (1.0 - direction * config.trailing_stop)
        if np.isnan(level) or direction * (trail - level) > 0.0:
            level = trail
            reason = TRAILING_STOP_EXIT
    if not np.isnan(level):
        price = stop_fill_price(int(-direction), level, bar_open, high, low)
        if not np.isnan(price):
            exit_position(state, trades, price, False, bar_volume, index, reason, costs)
            return True
    if not np.isnan(config.take_profit):
        target = entry * (1.0 + direction * config.take_profit)
        price = limit_fill_price(int(-direction), target, bar_open, high, low)
        if not np.isnan(price):
            exit_position(state, trades, price, True, bar_volume, index, TAKE_PROFIT_EXIT, costs)
            return True
    return False


@njit(cache=True)
def track_extremes(state: FloatArray, high: float, low: float) -> None:
    """After a bar the position survived: widen MAE/MFE extremes and move the trailing peak."""
    state[LOWEST] = min(state[LOWEST], low)
    state[HIGHEST] = max(state[HIGHEST], high)
    if state[POSITION] > 0:
        state[PEAK] = max(state[PEAK], high)
    else:
        state[PEAK] = min(state[PEAK], low)
