"""The bar-by-bar compiled simulator (one instrument, one position at a time, long and short).

Order of events inside bar t:
1. at the open: market orders from bar t−1's signals (exit first, then the entry: a reversal);
2. a working limit/stop entry fills if the bar reaches its level (gaps fill at the open);
3. stop-loss / trailing stop / take-profit of a position held since the open or earlier;
4. at the close: bar t's signals become orders — filled now when ``fill_on_close``, else at t+1's open;
5. equity and position are marked at the close.

With ``max_entries_per_day`` (and one UTC day number per bar in ``day``) an entry that would fill on
a day that already had that many entries is dropped instead and counted as a daily-limit hit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.fills.prices import order_fill_price
from tradeloom.quant.simulator.config import (
    END_OF_DATA_EXIT,
    LIMIT_ORDER,
    MARKET_ORDER,
    SIGNAL_EXIT,
    TRADE_COLUMNS,
    SimulationConfig,
)
from tradeloom.quant.simulator.market_kernel import entry_capacity, simulate_market
from tradeloom.quant.simulator.market_step import signal_orders, valid_bar
from tradeloom.quant.simulator.state import (
    CASH,
    POSITION,
    TRADES,
    check_exits,
    enter,
    exit_position,
    new_state,
    record_trade,
    track_extremes,
)
from tradeloom.quant.types import BoolArray, FloatArray, IntArray


@njit(cache=True)
def simulate(  # noqa: PLR0917 (compiled: positional arrays)
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    entry_long: BoolArray,
    exit_long: BoolArray,
    entry_short: BoolArray,
    exit_short: BoolArray,
    entry_level: FloatArray,
    volatility: FloatArray,
    day: IntArray,
    config: SimulationConfig,
    costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int, FloatArray]:
    """Returns (trade records [rows × TRADE_COLUMNS], equity at each close, signed position, invalid
    bar, counters in ``COUNTER_NAMES`` order). Invalid bar is −1, or the first bar with a
    non-positive or non-finite price or a negative volume: the run stops there and returns empty arrays.

    ``entry_level`` and ``volatility`` are either one value per bar or empty (no limit/stop levels;
    no volatility target), which saves two full-length arrays on the common path.

    Runs with market entries only, no stop-loss/take-profit/trailing stop, no daily entry limit and
    no TIERED commission (the common configuration) take ``simulate_market``: the same loop without
    those branches, its state in registers and no reference-counted arrays in its fills. The rest
    take ``simulate_general``. Both return identical results.
    """
    n = close.shape[0]
    has_exits = not (
        np.isnan(config.stop_loss) and np.isnan(config.take_profit) and np.isnan(config.trailing_stop)
    )
    has_levels = entry_level.shape[0] == n and config.entry_order_type != MARKET_ORDER
    has_limit = config.max_entries_per_day > 0 and day.shape[0] == n
    if has_exits or has_levels or has_limit or costs.commission_model == CommissionModel.TIERED:
        return simulate_general(open_, high, low, close, volume, entry_long, exit_long, entry_short,
                                exit_short, entry_level, volatility, day, config, costs)  # fmt: skip
    return simulate_market(open_, high, low, close, volume, entry_long, exit_long, entry_short, exit_short,
                           volatility, config, costs)  # fmt: skip


@njit(cache=True)
def simulate_general(  # noqa: PLR0917, PLR0912, PLR0915 (one compiled loop over positional arrays)
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    entry_long: BoolArray,
    exit_long: BoolArray,
    entry_short: BoolArray,
    exit_short: BoolArray,
    entry_level: FloatArray,
    volatility: FloatArray,
    day: IntArray,
    config: SimulationConfig,
    costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int, FloatArray]:
    """``simulate`` for every configuration: the loop that handles all order types, exits and limits."""
    n = close.shape[0]
    state = new_state(config.initial_cash)
    trades = np.empty((entry_capacity(entry_long, entry_short, n), TRADE_COLUMNS))
    equity = np.empty(n)
    position = np.empty(n)
    pending_exit = False
    pending_side = 0  # +1/−1: an entry order is waiting
    pending_type = MARKET_ORDER
    order_type = MARKET_ORDER
    pending_level = np.nan
    pending_volatility = np.nan
    pending_first = 0  # first bar the pending entry may fill in
    pending_last = 0  # last bar it may fill in (limit/stop time in force)
    has_exits = not (
        np.isnan(config.stop_loss) and np.isnan(config.take_profit) and np.isnan(config.trailing_stop)
    )
    has_levels = entry_level.shape[0] == n  # an empty entry_level means market entries only
    has_volatility = volatility.shape[0] == n  # empty unless sizing by volatility target
    limit = config.max_entries_per_day
    has_limit = limit > 0 and day.shape[0] == n
    counters = np.zeros(2)  # entries, daily-limit hits
    current_day = -1
    today = 0  # entries filled on current_day
    for t in range(n):
        o, h, lo, c, v = open_[t], high[t], low[t], close[t], volume[t]
        if not valid_bar(o, h, lo, c, v):
            return trades[:0], equity[:0], position[:0], t, counters
        if has_limit and day[t] != current_day:
            current_day = day[t]
            today = 0
        blocked = has_limit and today >= limit
        intrabar_entry = False
        if pending_exit and state[POSITION] != 0.0:
            exit_position(state, trades, o, False, v, t, SIGNAL_EXIT, costs)
        pending_exit = False
        if pending_side != 0 and t >= pending_first:
            if t > pending_last or state[POSITION] != 0.0:
                pending_side = 0
            elif pending_type == MARKET_ORDER:
                if blocked:
                    counters[1] += 1
                elif enter(state, pending_side, o, False, v, pending_volatility, t, config, costs):
                    counters[0] += 1
                    today += 1
                pending_side = 0
            else:
                price = order_fill_price(pending_type, pending_side, pending_level, o, h, lo)
                if not np.isnan(price):
                    if blocked:
                        counters[1] += 1
                    else:
                        is_maker = pending_type == LIMIT_ORDER
                        intrabar_entry = enter(state, pending_side, price, is_maker, v, pending_volatility, t,
                                               config, costs)  # fmt: skip
                        counters[0] += int(intrabar_entry)
                        today += int(intrabar_entry)
                    pending_side = 0
        if state[POSITION] != 0.0:
            if intrabar_entry:
                track_extremes(state, c, c)
            elif not (has_exits and check_exits(state, trades, o, h, lo, v, t, config, costs)):
                track_extremes(state, h, lo)
        wants_exit, side = signal_orders(entry_long[t], exit_long[t], entry_short[t], exit_short[t],
                                         state[POSITION])  # fmt: skip
        if (pending_side > 0 and exit_long[t]) or (pending_side < 0 and exit_short[t]):
            pending_side = 0
        order_type = config.entry_order_type if has_levels else MARKET_ORDER
        if order_type != MARKET_ORDER and np.isnan(entry_level[t]):
            order_type = MARKET_ORDER
        bar_volatility = volatility[t] if has_volatility else np.nan
        if config.fill_on_close:
            if wants_exit:
                exit_position(state, trades, c, False, v, t, SIGNAL_EXIT, costs)
            if side != 0 and order_type == MARKET_ORDER:
                if has_limit and today >= limit:
                    counters[1] += 1
                elif enter(state, side, c, False, v, bar_volatility, t, config, costs):
                    counters[0] += 1
                    today += 1
                side = 0
        else:
            pending_exit = wants_exit
        if side != 0:
            pending_side = side
            pending_type = order_type
            pending_level = entry_level[t] if order_type != MARKET_ORDER else np.nan
            pending_volatility = bar_volatility
            pending_first = t + 1
            pending_last = t + (config.entry_ttl if order_type != MARKET_ORDER else 1)
        equity[t] = state[CASH] + state[POSITION] * c
        position[t] = state[POSITION]
    if n > 0 and state[POSITION] != 0.0:
        record_trade(state, trades, close[n - 1], 0.0, n - 1, END_OF_DATA_EXIT)
    return trades[: int(state[TRADES])], equity, position, -1, counters
