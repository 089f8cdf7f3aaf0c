# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""One SMA-cross backtest in one pass: the signals, the simulator's market fast path and the ten
summary figures fused into a single loop over the bars.

The three-pass path reads the bars three times: ``sma_cross`` writes four signal arrays,
``simulate_market`` reads them back with the bars and writes the equity and position curves, and
``summary_metrics`` reads those curves again. Here ``simulate_market``'s own loop
(``market_kernel.market_loop``) finds each bar's two averages with ``sma_cross``'s running sums
(``finite_pair_step``: the same sums in the same order, so the same crosses), takes the crosses
straight into its bar logic, and folds the marked equity and each closed trade into the summary as
``summary_metrics`` folds them (``summary_fold``): one loop, each rule written once.
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
from tradeloom.quant.simulator.config import SimulationConfig
from tradeloom.quant.simulator.market_kernel import market_loop
from tradeloom.quant.types import FloatArray

FusedRun = tuple[FloatArray, FloatArray, FloatArray, int, FloatArray, FloatArray, FloatArray]


@njit(cache=True)
def sma_cross_backtest(
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
    n = close.shape[0]
    # every trade has an entry on a cross and crosses alternate: at most one long entry per two bars
    capacity = (n + 1 if allow_short else n // 2 + 1) + 1
    none = np.zeros(0, dtype=np.bool_)
    trades, equity, position, bad, counters, figures, events = market_loop(
        open_, high, low, close, volume, (none, none, none, none), (fast, slow), allow_short, capacity,
        periods_per_year, volatility, config, costs,
    )  # fmt: skip
    return trades.copy(), equity, position, bad, counters, figures, events
