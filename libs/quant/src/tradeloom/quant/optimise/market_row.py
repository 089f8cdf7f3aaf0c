# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""A grid row on the simulator's market fast path: ``running.cross_row_figures`` for rows with
market entries, no stop-loss/take-profit/trailing stop, no daily limit and any commission but TIERED.

What ``simulate_market`` is to ``simulate_general``, this is to the general row: the per-bar state
(cash, signed position, the two averages' previous values) lives in local variables and the state
array is written only around the rare fills (``enter`` and ``exit_position`` keep their one
definition, with ``tierless_costs``: no reference-counted arrays in a fill). Without exits nothing
reads a position's extremes or trailing peak, so highs and lows are never loaded; the open and the
volume are read only on a bar that fills. A bar without a cross leaves no order pending, so the
signal logic runs only on crosses. The figures are ``summary_fold``'s arithmetic in the same order,
so a row equals ``summary_metrics(*simulate(...))`` bit for bit (``tests/test_running_grid.py``).
Bars must be validated by the caller (``evaluate`` does).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS
from tradeloom.quant.optimise.summary_fold import finish_returns, finish_trades, fold_return, start_returns
from tradeloom.quant.simulator.config import SIGNAL_EXIT, TRADE_COLUMNS, SimulationConfig
from tradeloom.quant.simulator.market_kernel import tierless_costs
from tradeloom.quant.simulator.state import CASH, POSITION, TRADES, enter, exit_position, new_state
from tradeloom.quant.types import FloatArray


def market_row_qualifies(config: SimulationConfig, costs: Costs) -> bool:
    """Whether a grid's rows may take ``cross_row_market`` (grid rows never have entry levels or a
    daily limit): no stop-loss, take-profit or trailing stop, and no TIERED commission."""
    no_exits = all(np.isnan(v) for v in (config.stop_loss, config.take_profit, config.trailing_stop))
    return bool(no_exits and costs.commission_model != CommissionModel.TIERED)


@njit(cache=True)
def cross_row_market(  # noqa: PLR0912, PLR0915 (the market loop and the summary, fused)
    fast: FloatArray,
    slow: FloatArray,
    allow_short: bool,
    open_: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FloatArray:
    """``SUMMARY_COLUMNS`` of long (and short) on ``fast`` crossing ``slow`` strictly, for a config
    and costs that ``market_row_qualifies``; bars already validated."""
    n = close.shape[0]
    out = np.full(len(SUMMARY_COLUMNS), np.nan)
    if n == 0:
        return out
    costs = tierless_costs(costs)
    initial = config.initial_cash
    fill_on_close = config.fill_on_close
    state = new_state(initial)
    record = np.empty((1, TRADE_COLUMNS))
    has_volatility = volatility.shape[0] == n
    cash = initial
    held = 0.0
    closed = wins = gross_win = gross_loss = 0.0
    pending_exit = False
    pending_side = 0
    pending_volatility = np.nan
    previous_fast = previous_slow = np.nan  # bar 0 never crosses
    acc = start_returns(initial, initial)
    exposed = 0
    for t in range(n):
        c = close[t]
        if pending_exit or pending_side != 0:
            o, v = open_[t], volume[t]
            if pending_exit and held != 0.0:
                state[CASH], state[POSITION] = cash, held
                exit_position(state, record, o, False, v, t, SIGNAL_EXIT, costs)
                state[TRADES] = 0.0
                cash, held = state[CASH], 0.0
                pnl = record[0, 6]
                closed += 1.0
                if pnl > 0.0:
                    wins += 1.0
                    gross_win += pnl
                elif pnl < 0.0:
                    gross_loss -= pnl
            pending_exit = False
            if pending_side != 0:
                if held == 0.0:
                    state[CASH] = cash
                    if enter(state, pending_side, o, False, v, pending_volatility, t, config, costs):
                        cash, held = state[CASH], state[POSITION]
                pending_side = 0
        f, s = fast[t], slow[t]
        up = previous_fast < previous_slow and f > s
        down = previous_fast > previous_slow and f < s
        previous_fast, previous_slow = f, s
        if up or down:
            go_long = up and not down
            go_short = allow_short and down and not up
            wants_exit = (held > 0.0 and (down or go_short)) or (
                held < 0.0 and ((allow_short and up) or go_long)
            )
            side = 1 if go_long and held <= 0.0 else (-1 if go_short and held >= 0.0 else 0)
            bar_volatility = volatility[t] if has_volatility else np.nan
            if fill_on_close:
                v = volume[t]
                if wants_exit:
                    state[CASH], state[POSITION] = cash, held
                    exit_position(state, record, c, False, v, t, SIGNAL_EXIT, costs)
                    state[TRADES] = 0.0
                    cash, held = state[CASH], 0.0
                    pnl = record[0, 6]
                    closed += 1.0
                    if pnl > 0.0:
                        wins += 1.0
                        gross_win += pnl
                    elif pnl < 0.0:
                        gross_loss -= pnl
                if side != 0:
                    state[CASH] = cash
                    if enter(state, side, c, False, v, bar_volatility, t, config, costs):
                        cash, held = state[CASH], state[POSITION]
            else:
                pending_exit = wants_exit
                pending_side = side
                pending_volatility = bar_volatility
        value = cash + held * c
        if t == 0:
            acc = start_returns(initial, value)
        acc = fold_return(acc, value)
        exposed += held != 0.0
    finish_returns(acc, n, initial, periods_per_year, out)
    finish_trades(closed, wins, gross_win, gross_loss, out)
    out[9] = exposed / n
    return out
