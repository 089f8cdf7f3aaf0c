# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""One grid row of a moving-average cross kept as running figures: the simulator's bar loop and
``summary_metrics`` fused, with no full-length array at all.

``shared_averages.run_cross_grid`` used to build, per row, two boolean cross arrays, the record
table, the equity and the position curves (five arrays of a million entries), then read equity and
position again for the ten figures. A grid row only needs the figures, so here the crosses are read
straight from the two average rows, each closed trade is folded into the trade figures as it
closes, and each bar's equity into the return figures as it is marked.

Every step is the simulator's own code in the simulator's order (``enter``, ``exit_position``,
``check_exits``, ``track_extremes`` on the same state array; the record table is one reused row),
and the figures are ``summary_metrics``'s arithmetic term by term, so a row's figures equal the
full path's exactly (``tests/test_running_grid.py`` compares them bit for bit). It covers what grid
rows use: market entries (no entry levels), no daily entry limit, any costs, stops, sizing and
fill timing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.indicators._core import cross
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS
from tradeloom.quant.simulator import summary_fold as fold
from tradeloom.quant.simulator.config import SIGNAL_EXIT, TRADE_COLUMNS, SimulationConfig
from tradeloom.quant.simulator.market_step import signal_orders
from tradeloom.quant.simulator.state import (
    CASH,
    POSITION,
    TRADES,
    check_exits,
    enter,
    exit_position,
    new_state,
    track_extremes,
)
from tradeloom.quant.types import FloatArray


@njit(cache=True, inline="always")
def _fold_record(record: FloatArray, state: FloatArray, closed: fold.TradeFold) -> fold.TradeFold:
    """Fold the trade just recorded in ``record[0]`` (if any) into the trade figures; reuse the row."""
    if state[TRADES] == 0.0:
        return closed
    state[TRADES] = 0.0
    return fold.fold_trade(closed, record[0, 6])


@njit(cache=True)
def cross_row_figures(  # noqa: PLR0912, PLR0915 (the simulator's loop and the summary, fused)
    fast: FloatArray,
    slow: FloatArray,
    allow_short: bool,
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FloatArray:
    """``SUMMARY_COLUMNS`` of long (and short, with ``allow_short``) on ``fast`` crossing ``slow``
    strictly: what ``summary_metrics(*simulate(crosses...))`` returns, for bars already validated."""
    n = close.shape[0]
    out = np.full(len(SUMMARY_COLUMNS), np.nan)
    if n == 0:
        return out
    state = new_state(config.initial_cash)
    record = np.empty((1, TRADE_COLUMNS))
    closed = fold.NO_TRADES
    has_exits = not (
        np.isnan(config.stop_loss) and np.isnan(config.take_profit) and np.isnan(config.trailing_stop)
    )
    has_volatility = volatility.shape[0] == n
    initial = config.initial_cash
    pending_exit = False
    pending_side = 0
    pending_volatility = np.nan
    acc = fold.start_returns(initial, initial)  # shifted by the first bar's return once it is marked
    exposed = 0
    for t in range(n):
        o, h, lo, c, v = open_[t], high[t], low[t], close[t], volume[t]
        if pending_exit and state[POSITION] != 0.0:
            exit_position(state, record, o, False, v, t, SIGNAL_EXIT, costs)
            closed = _fold_record(record, state, closed)
        pending_exit = False
        if pending_side != 0:
            if state[POSITION] == 0.0:
                enter(state, pending_side, o, False, v, pending_volatility, t, config, costs)
            pending_side = 0
        if state[POSITION] != 0.0:  # market entries only: never an intrabar entry to mark at c
            if has_exits and check_exits(state, record, o, h, lo, v, t, config, costs):
                closed = _fold_record(record, state, closed)
            else:
                track_extremes(state, h, lo)
        up = down = False
        if t > 0:
            up, down = cross(fast[t - 1], slow[t - 1], fast[t], slow[t])
        # entry_long = up, exit_long = down; with shorts entry_short = down, exit_short = up
        wants_exit, side = signal_orders(up, down, allow_short and down, allow_short and up, state[POSITION])
        bar_volatility = volatility[t] if has_volatility else np.nan
        if config.fill_on_close:
            if wants_exit:
                exit_position(state, record, c, False, v, t, SIGNAL_EXIT, costs)
                closed = _fold_record(record, state, closed)
            if side != 0:
                enter(state, side, c, False, v, bar_volatility, t, config, costs)
                side = 0
        else:
            pending_exit = wants_exit
        if side != 0:
            pending_side = side
            pending_volatility = bar_volatility
        value = state[CASH] + state[POSITION] * c
        if t == 0:
            acc = fold.start_returns(initial, value)
        acc = fold.fold_return(acc, value)
        exposed += state[POSITION] != 0.0
    fold.finish_returns(acc, n, initial, periods_per_year, out)
    fold.finish_trades(closed, out)
    out[9] = exposed / n
    return out
