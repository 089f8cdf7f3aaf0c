# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""The simulator's fast path: market orders only, no stop-loss/take-profit/trailing stop, no daily limit.

It is ``kernel.simulate``'s loop with those branches removed (the dispatcher picks it once, before
the loop) and with the per-bar state in local variables: the general loop keeps its state in a
float array the helpers mutate, and as that array may alias the output arrays the compiler reloads
and stores it on every bar. Here the array is written only around the rare fills (``enter`` and
``exit_position`` keep their one definition) and read back after them. The trailing-stop peak is not
tracked (no exits read it). The bar check and the signal rule are ``market_step``'s (shared with
the fused backtest, the grid rows and the general loop); everything returned is bit for bit what
the general loop returns (``tests/test_simulator_fast_path.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.simulator.config import END_OF_DATA_EXIT, SIGNAL_EXIT, TRADE_COLUMNS, SimulationConfig
from tradeloom.quant.simulator.market_step import signal_orders, valid_bar
from tradeloom.quant.simulator.state import (
    CASH,
    HIGHEST,
    LOWEST,
    POSITION,
    TRADES,
    enter,
    exit_position,
    new_state,
    record_trade,
)
from tradeloom.quant.types import BoolArray, FloatArray

# A compiled-in constant: its arrays carry no reference count (see ``tierless_costs``).
_NO_TIERS = np.zeros(1)


@njit(cache=True, inline="always")
def tierless_costs(costs: Costs) -> Costs:
    """``costs`` with constant placeholder tier arrays, for any commission model but TIERED (the only
    one that reads them; TIERED runs take the general loop).

    Every helper a fill calls takes ``costs``, and each array passed in is reference-counted with
    atomic instructions, which on x86 wait for all pending stores to drain: in the streaming loop
    (equity and position written every bar) that stalled every fill. A compiled-in constant array
    has no reference count, so with these the fills run without the atomics.
    """
    model, slippage, cap, commission, fixed, maker, taker = costs[:7]
    return Costs(model, slippage, cap, commission, fixed, maker, taker, _NO_TIERS, _NO_TIERS, _NO_TIERS,
                 costs.slippage_seed)  # fmt: skip


@njit(cache=True)
def entry_capacity(entry_long: BoolArray, entry_short: BoolArray, n: int) -> int:
    """Rows the trade table needs: every trade has an entry signal (+1 for the open one), at most n + 1."""
    capacity = 1
    for t in range(n):
        capacity += int(entry_long[t]) + int(entry_short[t])
    return min(capacity, n + 1)


@njit(cache=True)
def simulate_market(  # noqa: PLR0912, PLR0915 (one compiled loop over positional arrays)
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    entry_long: BoolArray,
    exit_long: BoolArray,
    entry_short: BoolArray,
    exit_short: BoolArray,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int, FloatArray]:
    """``simulate``'s results for a run with market entries only, no exits, no daily limit and any
    commission model but TIERED."""
    if costs.commission_model == CommissionModel.TIERED:
        raise ValueError("simulate_market: TIERED commission takes the general loop")
    costs = tierless_costs(costs)
    n = close.shape[0]
    state = new_state(config.initial_cash)
    trades = np.empty((entry_capacity(entry_long, entry_short, n), TRADE_COLUMNS))
    equity = np.empty(n)
    position = np.empty(n)
    has_volatility = volatility.shape[0] == n  # empty unless sizing by volatility target
    fill_on_close = config.fill_on_close
    counters = np.zeros(2)  # entries, daily-limit hits (always 0 here)
    entries = 0
    cash = state[CASH]
    held = 0.0  # signed units
    lowest = highest = 0.0  # the open position's extremes (MAE/MFE)
    pending_exit = False
    pending_side = 0  # +1/−1: a market entry waits for this bar's open
    pending_volatility = np.nan
    for t in range(n):
        o, h, lo, c, v = open_[t], high[t], low[t], close[t], volume[t]
        if not valid_bar(o, h, lo, c, v):
            counters[0] = entries
            return trades[:0], equity[:0], position[:0], t, counters
        if pending_exit and held != 0.0:
            state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
            exit_position(state, trades, o, False, v, t, SIGNAL_EXIT, costs)
            cash, held = state[CASH], 0.0
        pending_exit = False
        if pending_side != 0:
            if held == 0.0 and enter(state, pending_side, o, False, v, pending_volatility, t, config, costs):
                entries += 1
                cash, held, lowest, highest = state[CASH], state[POSITION], state[LOWEST], state[HIGHEST]
            pending_side = 0
        if held != 0.0:
            lowest = min(lowest, lo)
            highest = max(highest, h)
        el, xl, es, xs = entry_long[t], exit_long[t], entry_short[t], exit_short[t]
        if el or es or (held != 0.0 and (xl or xs)):
            wants_exit, side = signal_orders(el, xl, es, xs, held)
            bar_volatility = volatility[t] if has_volatility else np.nan
            if fill_on_close:
                if wants_exit:
                    state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
                    exit_position(state, trades, c, False, v, t, SIGNAL_EXIT, costs)
                    cash, held = state[CASH], 0.0
                if side != 0:
                    if enter(state, side, c, False, v, bar_volatility, t, config, costs):
                        entries += 1
                        cash, held = state[CASH], state[POSITION]
                        lowest, highest = state[LOWEST], state[HIGHEST]
                    side = 0
            else:
                pending_exit = wants_exit
            if side != 0:
                pending_side = side
                pending_volatility = bar_volatility
        equity[t] = cash + held * c
        position[t] = held
    counters[0] = entries
    if n > 0 and held != 0.0:
        state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
        record_trade(state, trades, close[n - 1], 0.0, n - 1, END_OF_DATA_EXIT)
    return trades[: int(state[TRADES])], equity, position, -1, counters
