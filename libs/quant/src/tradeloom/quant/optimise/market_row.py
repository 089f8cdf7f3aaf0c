# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""A grid row on the simulator's market fast path: ``running.cross_row_figures`` for rows with
market entries, no stop-loss/take-profit/trailing stop, no daily limit and any commission but TIERED.

What ``simulate_market`` is to ``simulate_general``, this is to the general row: the per-bar state
(cash, signed position, the two averages' previous values) lives in local variables and the state
array is written only around the rare fills (``market_step``'s inlined entry, exit and signal rules,
the simulator's own, with ``tierless_costs``: no reference-counted arrays in a fill). Without exits nothing
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
from tradeloom.quant.indicators._core import cross
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS
from tradeloom.quant.simulator.config import TRADE_COLUMNS, SimulationConfig
from tradeloom.quant.simulator.market_kernel import tierless_costs
from tradeloom.quant.simulator.market_step import Book, market_entry, market_exit, signal_orders
from tradeloom.quant.simulator.state import TRADES, new_state
from tradeloom.quant.simulator.summary_fold import (
    NO_TRADES,
    TradeFold,
    finish_returns,
    finish_trades,
    fold_return,
    fold_trade,
    start_returns,
)
from tradeloom.quant.types import FloatArray


def market_row_qualifies(config: SimulationConfig, costs: Costs) -> bool:
    """Whether a grid's rows may take ``cross_row_market`` (grid rows never have entry levels or a
    daily limit): no stop-loss, take-profit or trailing stop, and no TIERED commission."""
    no_exits = all(np.isnan(v) for v in (config.stop_loss, config.take_profit, config.trailing_stop))
    return bool(no_exits and costs.commission_model != CommissionModel.TIERED)


@njit(cache=True, inline="always")
def _close_row(state: FloatArray, record: FloatArray, price: float, v: float, t: int, costs: Costs,
               book: Book, closed: TradeFold) -> tuple[Book, TradeFold]:  # fmt: skip
    """Close the position at ``price`` into the one reused record row and fold the trade: (the
    book, the trade figures). Extremes are not tracked (no figure reads them)."""
    book = market_exit(state, record, price, v, t, costs, book)
    state[TRADES] = 0.0
    return book, fold_trade(closed, record[0, 6])


@njit(cache=True)
def cross_row_market(  # noqa: PLR0915 (the market loop and the summary, fused)
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
    book = (initial, 0.0, 0.0, 0.0)  # cash, signed units held (extremes untracked)
    closed = NO_TRADES
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
            if pending_exit and book[1] != 0.0:
                book, closed = _close_row(state, record, o, v, t, costs, book, closed)
            pending_exit = False
            if pending_side != 0:
                if book[1] == 0.0:
                    side, volatility_then = pending_side, pending_volatility
                    _, book = market_entry(state, side, o, v, volatility_then, t, config, costs, book)
                pending_side = 0
        f, s = fast[t], slow[t]
        up, down = cross(previous_fast, previous_slow, f, s)
        previous_fast, previous_slow = f, s
        if up or down:
            wants_exit, side = signal_orders(up, down, allow_short and down, allow_short and up, book[1])
            bar_volatility = volatility[t] if has_volatility else np.nan
            if fill_on_close:
                v = volume[t]
                if wants_exit:
                    book, closed = _close_row(state, record, c, v, t, costs, book, closed)
                if side != 0:
                    _, book = market_entry(state, side, c, v, bar_volatility, t, config, costs, book)
            else:
                pending_exit = wants_exit
                pending_side = side
                pending_volatility = bar_volatility
        held = book[1]
        value = book[0] + held * c
        if t == 0:
            acc = start_returns(initial, value)
        acc = fold_return(acc, value)
        exposed += held != 0.0
    finish_returns(acc, n, initial, periods_per_year, out)
    finish_trades(closed, out)
    out[9] = exposed / n
    return out
