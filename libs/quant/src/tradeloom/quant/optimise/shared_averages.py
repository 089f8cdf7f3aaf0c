# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""The grid loop of the moving-average crosses (``sma_cross``, ``ema_cross``) with every distinct
average computed once and shared by all the parameter rows that use it.

A 90-row SMA grid over 1,000,000 bars has only 18 distinct windows, yet the per-row loop
(``compiled.run_grid``) recomputed both averages in every row: about 40 % of the grid's time.
Here the averages are a table (one row per distinct window, built in parallel), and each parameter
row only finds the crosses of two table rows, simulates and summarises as running figures
(``running.cross_row_figures``: no per-row array). The averages are the same
kernels (``sma``'s running sums are the arithmetic the fused ``sma_cross`` uses; ``ema`` is what
``ema_cross`` calls) and the crosses the same strict ones, so every row's signals, and therefore its
metrics, equal the per-row loop's exactly (tests compare both, and against single runs).

The table costs windows × bars × 8 bytes. Over the byte budget the rows are cut into tiles, each
needing at most ``budget // (bars × 8)`` windows (rows ordered by slow then fast window, so a
product grid's fast averages are recomputed once per tile, its slow ones never); only a budget
below two averages leaves the per-row loop. Rows without exits or TIERED commission run on the
market fast path (``market_row``), the others on the general row; the choice is made once per grid.
The caller is told which path ran (``SearchResults.path``, e.g. ``shared_averages+market_rows``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.indicators._core import check_window, finite_window_step
from tradeloom.quant.indicators.moving_averages import ema, sma
from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS
from tradeloom.quant.optimise.market_row import cross_row_market, market_row_qualifies
from tradeloom.quant.optimise.running import cross_row_figures
from tradeloom.quant.simulator.config import SimulationConfig
from tradeloom.quant.strategies.signals import any_nan
from tradeloom.quant.types import FloatArray, IntArray

# strategy id (compiled.STRATEGY_IDS) → whether its averages are exponential
SHARED_AVERAGE_STRATEGIES = {0: False, 1: True}
PER_ROW = "per_row"  # compiled.run_grid: every row computes its own averages
SHARED = "shared_averages"  # one table of every distinct average
TILED = "shared_averages_tiled"  # tiles of rows, each with its own table within the budget
MARKET_ROWS = "+market_rows"  # rows on the market fast path (market_row.cross_row_market)
GENERAL_ROWS = "+general_rows"  # rows on the general simulator state (running.cross_row_figures)


def plan_tiles(pairs: IntArray, max_windows: int) -> list[IntArray]:
    """Row indices of each tile: consecutive rows (ordered by slow, then fast window) whose distinct
    windows number at most ``max_windows`` (≥ 2). One tile when the whole grid fits."""
    order = np.lexsort((pairs[:, 0], pairs[:, 1]))
    tiles: list[IntArray] = []
    start = 0
    windows: set[int] = set()
    for at, row in enumerate(order):
        row_windows = {int(pairs[row, 0]), int(pairs[row, 1])}
        if len(windows | row_windows) > max_windows:
            tiles.append(np.sort(order[start:at]))
            start = at
            windows = set()
        windows |= row_windows
    tiles.append(np.sort(order[start:]))
    return tiles


@njit(cache=True)
def sma_into(close: FloatArray, window: int, out: FloatArray) -> None:
    """``sma(close, window)`` written into ``out``, for closes without NaN: ``rolling_mean``'s running
    sum with its NaN counts always zero, so the same sums in the same order (identical averages)
    without a temporary array or four NaN tests a bar."""
    check_window(window)
    total = 0.0
    for i in range(close.shape[0]):
        total, out[i] = finite_window_step(close, i, window, total)


@njit(cache=True, parallel=True)
def average_table(close: FloatArray, windows: IntArray, exponential: bool) -> FloatArray:
    """Row ``j``: the SMA (or EMA) of ``close`` over ``windows[j]``; rows built in parallel."""
    out = np.empty((windows.shape[0], close.shape[0]))
    finite = not any_nan(close)  # always, for validated bars: the SMA rows need no NaN counts
    for j in prange(windows.shape[0]):
        if exponential:
            out[j] = ema(close, windows[j])
        elif finite:
            sma_into(close, windows[j], out[j])
        else:
            out[j] = sma(close, windows[j])
    return out


@njit(cache=True, parallel=True)
def run_cross_grid(
    fast_rows: IntArray,
    slow_rows: IntArray,
    allow_short: IntArray,
    table: FloatArray,
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
    """Summary metrics per parameter row: long on ``table[fast_rows[r]]`` crossing above
    ``table[slow_rows[r]]``, out (or short, when ``allow_short[r]``) on the cross below."""
    rows = fast_rows.shape[0]
    out = np.empty((rows, len(SUMMARY_COLUMNS)))
    for r in prange(rows):
        out[r] = cross_row_figures(
            table[fast_rows[r]], table[slow_rows[r]], allow_short[r] != 0, open_, high, low, close, volume,
            volatility, config, costs, periods_per_year,
        )  # fmt: skip
    return out


@njit(cache=True, parallel=True)
def run_market_cross_grid(
    fast_rows: IntArray,
    slow_rows: IntArray,
    allow_short: IntArray,
    table: FloatArray,
    open_: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FloatArray:
    """``run_cross_grid`` for a grid whose rows ``market_row_qualifies``: each row on the market fast
    path. A kernel of its own, so a grid compiles only the row loop it runs."""
    rows = fast_rows.shape[0]
    out = np.empty((rows, len(SUMMARY_COLUMNS)))
    for r in prange(rows):
        out[r] = cross_row_market(
            table[fast_rows[r]], table[slow_rows[r]], allow_short[r] != 0, open_, close, volume, volatility,
            config, costs, periods_per_year,
        )  # fmt: skip
    return out


def shared_average_grid(
    strategy: int,
    param_rows: FloatArray,
    prices: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
    budget_bytes: int,
) -> tuple[FloatArray | None, str]:
    """(the grid through shared average tables, the path that ran), or (None, ``PER_ROW``) when the
    strategy has no shared averages or the budget holds fewer than two averages (the caller then
    runs the per-row loop).

    ``param_rows`` columns are the strategy's parameters in schema order: fast, slow, allow_short.
    """
    exponential = SHARED_AVERAGE_STRATEGIES.get(strategy)
    close = prices[3]
    max_windows = budget_bytes // max(close.shape[0] * 8, 1)
    if exponential is None or param_rows.shape[0] == 0 or max_windows < 2:
        return None, PER_ROW
    pairs = param_rows[:, :2].astype(np.int64)
    flags = (param_rows[:, 2] != 0.0).astype(np.int64)
    tiles = plan_tiles(pairs, int(max_windows))
    out = np.empty((param_rows.shape[0], len(SUMMARY_COLUMNS)))
    for rows in tiles:
        out[rows] = _tile(pairs[rows], flags[rows], exponential, prices, volatility, config, costs,
                          periods_per_year)  # fmt: skip
    rows_kind = MARKET_ROWS if market_row_qualifies(config, costs) else GENERAL_ROWS
    return out, (SHARED if len(tiles) == 1 else f"{TILED}({len(tiles)})") + rows_kind


def _tile(
    pairs: IntArray,
    flags: IntArray,
    exponential: bool,
    prices: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    volatility: FloatArray,
    config: SimulationConfig,
    costs: Costs,
    periods_per_year: float,
) -> FloatArray:
    open_, high, low, close, volume = prices
    windows, index = np.unique(pairs, return_inverse=True)
    index = index.reshape(-1, 2).astype(np.int64)
    table = average_table(close, windows, exponential)
    fast_rows, slow_rows = np.ascontiguousarray(index[:, 0]), np.ascontiguousarray(index[:, 1])
    if market_row_qualifies(config, costs):  # chosen once per grid: the market fast path
        return run_market_cross_grid(fast_rows, slow_rows, flags, table, open_, close, volume, volatility,
                                     config, costs, periods_per_year)  # fmt: skip
    return run_cross_grid(fast_rows, slow_rows, flags, table, open_, high, low, close, volume, volatility,
                          config, costs, periods_per_year)  # fmt: skip
