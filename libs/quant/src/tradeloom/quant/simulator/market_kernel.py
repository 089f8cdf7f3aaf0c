# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""The simulator's fast path: market orders only, no stop-loss/take-profit/trailing stop, no daily limit.

It is ``kernel.simulate``'s loop with those branches removed (the dispatcher picks it once, before
the loop) and with the per-bar state in local variables: the general loop keeps its state in a
float array the helpers mutate, and as that array may alias the output arrays the compiler reloads
and stores it on every bar. Here the array is written only around the rare fills (``enter`` and
``exit_position`` keep their one definition) and read back after them. The trailing-stop peak is not
tracked (no exits read it). The bar's rules are ``market_step.market_bar`` (inlined: the fused
backtest runs the same bar); everything returned is bit for bit what the general loop returns
(``tests/test_simulator_fast_path.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.indicators._core import cross, finite_pair_step
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
from tradeloom.quant.simulator.summary_fold import (
    SUMMARY_FIGURES,
    finish_returns,
    finish_trades,
    fold_return,
    fold_trade_into,
    start_returns,
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


MarketRun = tuple[FloatArray, FloatArray, FloatArray, int, FloatArray, FloatArray, FloatArray]


@njit(cache=True)
def market_loop(  # noqa: PLR0912, PLR0915 (one compiled loop over positional arrays)
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    signals: tuple[BoolArray, BoolArray, BoolArray, BoolArray],
    windows: tuple[int, int] | None,
    allow_short: bool,
    capacity: int,
    periods_per_year: float | None,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
) -> MarketRun:
    """The market fast path's one loop: (trades, equity, position, bad, counters, SUMMARY figures,
    [crosses above, crosses below]); ``bad`` is −1 or the first invalid bar (then empty arrays).

    Its signals are either the four arrays of ``signals`` (entry long, exit long, entry short, exit
    short), when ``windows`` is None, or the strict crosses of the SMAs of the closes over
    ``windows`` (fast, slow), found on the fly with ``sma_cross``'s running sums: long on the cross
    above, out (or short, with ``allow_short``) on the cross below. A ``periods_per_year`` (not None)
    folds each marked bar and closed trade into the ten summary figures (``summary_fold``, as
    ``summary_metrics`` computes them); with None the figures stay NaN. Both choices are made by
    the arguments' types (None or not), so Numba compiles one lean loop per use with the other
    branches pruned: as runtime flags they cost the fused path 20 % (measured). ``trades`` has
    ``capacity`` rows.
    """
    costs = tierless_costs(costs)
    n = close.shape[0]
    initial = config.initial_cash
    state = new_state(initial)
    trades = np.empty((capacity, TRADE_COLUMNS))
    equity = np.empty(n)
    position = np.empty(n)
    figures = np.full(SUMMARY_FIGURES, np.nan)
    counters = np.zeros(2)  # entries, daily-limit hits (always 0 here)
    events = np.zeros(2)  # crosses above, crosses below (from the closes only)
    entry_long, exit_long, entry_short, exit_short = signals
    fast = slow = 0
    if windows is not None:
        fast, slow = windows
    ppy = 0.0
    if periods_per_year is not None:
        ppy = periods_per_year
    has_volatility = volatility.shape[0] == n  # empty unless sizing by volatility target
    entries = ups = downs = exposed = 0
    fill_on_close = config.fill_on_close
    cash = initial
    held = 0.0  # signed units
    lowest = highest = 0.0  # the open position's extremes (MAE/MFE)
    pending_exit = False
    pending_side = 0  # +1/−1: a market entry waits for this bar's open
    pending_volatility = np.nan
    f_total = s_total = 0.0
    prev_f = prev_s = np.nan
    acc = start_returns(initial, initial)
    closed = np.zeros(4)  # closed trades, wins, gross win, gross loss (see fold_trade_into)
    for t in range(n):
        o, h, lo, c, v = open_[t], high[t], low[t], close[t], volume[t]
        if not valid_bar(o, h, lo, c, v):
            counters[0] = entries
            return trades[:0], equity[:0], position[:0], t, counters, figures, events
        if windows is not None:
            f_total, s_total, f, s = finite_pair_step(close, t, fast, slow, f_total, s_total)
            up, down = cross(prev_f, prev_s, f, s)
            prev_f = f
            prev_s = s
            el, xl, es, xs = up, down, allow_short & down, allow_short & up  # no branch a bar
            active = up or down
        else:
            el, xl, es, xs = entry_long[t], exit_long[t], entry_short[t], exit_short[t]
            active = el or xl or es or xs  # (an exit signal when flat changes nothing)
        if pending_exit and held != 0.0:
            state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
            exit_position(state, trades, o, False, v, t, SIGNAL_EXIT, costs)
            cash, held = state[CASH], 0.0
            if periods_per_year is not None:
                fold_trade_into(closed, trades[int(state[TRADES]) - 1, 6])
        pending_exit = False
        if pending_side != 0:
            if held == 0.0 and enter(state, pending_side, o, False, v, pending_volatility, t, config, costs):
                entries += 1
                cash, held, lowest, highest = state[CASH], state[POSITION], state[LOWEST], state[HIGHEST]
            pending_side = 0
        if held != 0.0:
            lowest = min(lowest, lo)
            highest = max(highest, h)
        if active:
            if windows is not None:
                ups += up
                downs += down
            wants_exit, side = signal_orders(el, xl, es, xs, held)
            bar_volatility = volatility[t] if has_volatility else np.nan
            if fill_on_close:
                if wants_exit:
                    state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
                    exit_position(state, trades, c, False, v, t, SIGNAL_EXIT, costs)
                    cash, held = state[CASH], 0.0
                    if periods_per_year is not None:
                        fold_trade_into(closed, trades[int(state[TRADES]) - 1, 6])
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
        value = cash + held * c
        equity[t] = value
        position[t] = held
        if periods_per_year is not None:  # summary_metrics' fold of the marked bar
            if t == 0:
                acc = start_returns(initial, value)
            acc = fold_return(acc, value)
            exposed += held != 0.0
    counters[0] = entries
    events[0] = ups
    events[1] = downs
    if n > 0 and held != 0.0:
        state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
        record_trade(state, trades, close[n - 1], 0.0, n - 1, END_OF_DATA_EXIT)
    if n > 0 and periods_per_year is not None:
        finish_returns(acc, n, initial, ppy, figures)
        finish_trades((closed[0], closed[1], closed[2], closed[3]), figures)
        figures[9] = exposed / n
    return trades[: int(state[TRADES])], equity, position, -1, counters, figures, events


@njit(cache=True)
def simulate_market(
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
    commission model but TIERED: ``market_loop`` on the signal arrays, without the figures."""
    if costs.commission_model == CommissionModel.TIERED:
        raise ValueError("simulate_market: TIERED commission takes the general loop")
    capacity = entry_capacity(entry_long, entry_short, close.shape[0])
    signals = (entry_long, exit_long, entry_short, exit_short)
    trades, equity, position, bad, counters, _, _ = market_loop(
        open_, high, low, close, volume, signals, None, False, capacity, None, volatility, config,
        costs,
    )  # fmt: skip
    return trades, equity, position, bad, counters
