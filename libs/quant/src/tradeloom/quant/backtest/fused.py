# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""One SMA-cross backtest in one pass: the signals, the simulator's market fast path and the ten
summary figures fused into a single loop over the bars.

The three-pass path reads the bars three times: ``sma_cross`` writes four signal arrays,
``simulate_market`` reads them back with the bars and writes the equity and position curves, and
``summary_metrics`` reads those curves again. Here each bar's two averages are ``sma_cross``'s
running sums (``finite_pair_step``: the same sums in the same order, so the same crosses), the
crosses go straight into ``simulate_market``'s bar logic (state in locals, ``tierless_costs``, the
fill helpers inlined; its bar check and signal rule are ``market_step``'s), and the marked equity
and each closed trade are folded into the summary as ``summary_metrics`` folds them
(``summary_fold``).

The bar's fills are written here as in ``simulate_market`` rather than shared through one loop:
``simulate_market``'s loop with the SMA signals and the figures selected by argument types
(``None`` or not, pruned at compile time) returned the same results 5-10 % slower here (measured
interleaved, quiet box: 9.83 vs 8.99 ms per 1M bars), and an inlined bar helper taking the state
and trade arrays pays two atomic reference counts per array per bar (2-3x slower).
Trades, equity and position are still written, so a caller gets everything the three-pass path
returns; ``tests/test_fused_backtest.py`` compares them bit for bit.

It covers what ``simulate_market`` covers: market entries, no stop-loss/take-profit/trailing stop,
no daily limit, any commission but TIERED. The signal sums assume finite closes; a non-finite or
non-positive price stops the run at that bar (returned as ``bad``), as the simulator does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.indicators._core import cross, finite_pair_step
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS
from tradeloom.quant.simulator.config import END_OF_DATA_EXIT, SIGNAL_EXIT, TRADE_COLUMNS, SimulationConfig
from tradeloom.quant.simulator.market_kernel import tierless_costs
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
    finish_returns,
    finish_trades,
    fold_return,
    fold_trade_into,
    start_returns,
)
from tradeloom.quant.types import FloatArray

FusedRun = tuple[FloatArray, FloatArray, FloatArray, int, FloatArray, FloatArray, FloatArray]


@njit(cache=True)
def sma_cross_backtest(  # noqa: PLR0912, PLR0915 (signals, simulator and summary in one loop)
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    fast: int,
    slow: int,
    allow_short: bool,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FusedRun:
    """(trades, equity, position, bad, counters, SUMMARY_COLUMNS figures, [crosses above, crosses
    below]): what ``sma_cross`` → ``simulate`` → ``summary_metrics`` (and ``strategy_counters``)
    return, for a config without exits or a daily limit and costs that are not TIERED. ``bad`` is −1,
    or the first invalid bar (then the arrays are empty)."""
    if costs.commission_model == CommissionModel.TIERED:
        raise ValueError("sma_cross_backtest: TIERED commission takes the three-pass path")
    if fast < 1 or slow < 1:
        raise ValueError("window is below the minimum for this indicator")
    costs = tierless_costs(costs)
    n = close.shape[0]
    initial = config.initial_cash
    fill_on_close = config.fill_on_close
    state = new_state(initial)
    # every trade has an entry on a cross and crosses alternate: at most one long entry per two bars
    trades = np.empty(((n + 1 if allow_short else n // 2 + 1) + 1, TRADE_COLUMNS))
    equity = np.empty(n)
    position = np.empty(n)
    figures = np.full(len(SUMMARY_COLUMNS), np.nan)
    counters = np.zeros(2)  # entries, daily-limit hits (always 0 here)
    events = np.zeros(2)  # crosses above, crosses below
    sums = np.zeros(4)  # closed trades, wins, gross win, gross loss
    has_volatility = volatility.shape[0] == n
    entries = 0
    ups = downs = 0
    cash = initial
    held = 0.0
    lowest = highest = 0.0
    pending_exit = False
    pending_side = 0
    pending_volatility = np.nan
    f_total = s_total = 0.0
    prev_f = prev_s = np.nan
    acc = start_returns(initial, initial)
    exposed = 0
    for t in range(n):
        o, h, lo, c, v = open_[t], high[t], low[t], close[t], volume[t]
        if not valid_bar(o, h, lo, c, v):
            counters[0] = entries
            return trades[:0], equity[:0], position[:0], t, counters, figures, events
        # sma_cross's running sums and strict crosses
        f_total, s_total, f, s = finite_pair_step(close, t, fast, slow, f_total, s_total)
        up, down = cross(prev_f, prev_s, f, s)
        prev_f = f
        prev_s = s
        # simulate_market's bar, with entry_long = up, exit_long = down (and the short side mirrored)
        if pending_exit and held != 0.0:
            state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
            exit_position(state, trades, o, False, v, t, SIGNAL_EXIT, costs)
            fold_trade_into(sums, trades[int(state[TRADES]) - 1, 6])
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
        if up or down:
            ups += up
            downs += down
            wants_exit, side = signal_orders(up, down, allow_short and down, allow_short and up, held)
            bar_volatility = volatility[t] if has_volatility else np.nan
            if fill_on_close:
                if wants_exit:
                    state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
                    exit_position(state, trades, c, False, v, t, SIGNAL_EXIT, costs)
                    fold_trade_into(sums, trades[int(state[TRADES]) - 1, 6])
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
        value = cash + held * c
        equity[t] = value
        position[t] = held
        # summary_metrics' fold of the marked bar
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
    if n > 0:
        finish_returns(acc, n, initial, periods_per_year, figures)
        finish_trades((sums[0], sums[1], sums[2], sums[3]), figures)
        figures[9] = exposed / n
    return trades[: int(state[TRADES])].copy(), equity, position, -1, counters, figures, events
