"""The moving-average grid with shared averages: its table equals the reference averages, and every
row equals the per-row loop exactly and a single run built from the reference signals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import assert_series_close, random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.indicators import ema, sma
from tradeloom.quant.metrics import compute_metrics
from tradeloom.quant.optimise import SUMMARY_COLUMNS, evaluate, grid_candidates
from tradeloom.quant.optimise.shared_averages import average_table, plan_tiles
from tradeloom.quant.reference import indicators as ref
from tradeloom.quant.reference import signals as ref_signals
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation

COSTS = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=0.0005, taker_rate=0.001)


def _bars(n: int, seed: int) -> Bars:
    b = random_walk_bars(n, seed)
    return Bars(b.open, b.high, b.low, b.close, b.volume)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(1, 60), min_size=1, max_size=6, unique=True),
    st.booleans(),
    st.integers(0, 20),
)
def test_average_table_equals_the_kernels_and_the_reference(
    n: int, seed: int, windows: list[int], exponential: bool, nan_head: int
) -> None:
    close = random_walk_bars(n, seed).close.copy()
    close[: min(nan_head, n)] = np.nan  # an upstream warm-up region
    table = average_table(close, np.array(windows, dtype=np.int64), exponential)
    assert table.shape == (len(windows), n)
    for row, window in zip(table, windows, strict=True):
        kernel = ema(close, window) if exponential else sma(close, window)
        np.testing.assert_array_equal(row, kernel)  # the very arithmetic of the per-row signals
        assert_series_close(row, ref.ema(close, window) if exponential else ref.sma(close, window))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 400),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["sma_cross", "ema_cross"]),
    st.lists(st.integers(2, 40), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(3, 80), min_size=1, max_size=4, unique=True),
    st.booleans(),
)
def test_shared_rows_equal_the_per_row_loop_exactly(
    n: int, seed: int, strategy: str, fasts: list[int], slows: list[int], whole: bool
) -> None:
    bars = _bars(n, seed)
    config = SimulationConfig(whole_units=whole)
    candidates = grid_candidates({"fast": fasts, "slow": slows, "allow_short": [False, True]})
    shared = evaluate(strategy, candidates, bars, config, COSTS, periods_per_year=365.0)
    per_row = evaluate(
        strategy, candidates, bars, config, COSTS, periods_per_year=365.0, shared_average_bytes=0
    )
    assert shared.skipped == per_row.skipped
    for name in shared.params:
        np.testing.assert_array_equal(shared.params[name], per_row.params[name])
    for name in SUMMARY_COLUMNS:
        np.testing.assert_array_equal(shared.metrics[name], per_row.metrics[name], err_msg=name)


@pytest.mark.parametrize("strategy", ["sma_cross", "ema_cross"])
def test_shared_rows_equal_single_runs_from_reference_signals(strategy: str) -> None:
    bars = _bars(2000, 5)
    config = SimulationConfig(whole_units=True)
    fasts, slows = [5, 10, 15, 20], [20, 40, 60]
    candidates = grid_candidates({"fast": fasts, "slow": slows, "allow_short": [False, True]})
    results = evaluate(strategy, candidates, bars, config, COSTS, periods_per_year=365.0)
    assert len(results) == 22 and results.skipped == 2  # fast 20 / slow 20 refused
    signal_of = ref_signals.sma_cross if strategy == "sma_cross" else ref_signals.ema_cross
    for row in range(len(results)):
        fast, slow = int(results.params["fast"][row]), int(results.params["slow"][row])
        short = bool(results.params["allow_short"][row])
        run = run_simulation(bars, Signals(*signal_of(bars.close, fast, slow, short)), config, COSTS)
        single = compute_metrics(run, bars.close, config.initial_cash, periods_per_year=365.0).metrics
        for name in SUMMARY_COLUMNS:
            assert results.metrics[name][row] == pytest.approx(single[name], rel=1e-9, nan_ok=True), (
                row,
                name,
            )


@pytest.mark.parametrize(
    ("windows_in_budget", "path"),
    [
        (7, "shared_averages+market_rows"),
        (4, "shared_averages_tiled(2)+market_rows"),
        (2, "shared_averages_tiled(6)+market_rows"),
        (1, "per_row"),
    ],
)
def test_a_table_over_the_budget_is_tiled_into_the_same_rows(windows_in_budget: int, path: str) -> None:
    bars = _bars(500, 2)
    candidates = grid_candidates({"fast": [3, 5, 8], "slow": [13, 21], "allow_short": [False, True]})
    per_row = evaluate("sma_cross", candidates, bars, None, COSTS, shared_average_bytes=0)
    assert per_row.path == "per_row"
    tight = evaluate(
        "sma_cross", candidates, bars, None, COSTS, shared_average_bytes=500 * 8 * windows_in_budget
    )
    assert tight.path == path
    for name in SUMMARY_COLUMNS:
        np.testing.assert_array_equal(per_row.metrics[name], tight.metrics[name])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), min_size=1, max_size=40),
    st.integers(2, 12),
)
def test_tiles_cover_every_row_once_within_the_window_budget(
    pairs: list[tuple[int, int]], limit: int
) -> None:
    array = np.array(pairs, dtype=np.int64)
    tiles = plan_tiles(array, limit)
    np.testing.assert_array_equal(np.sort(np.concatenate(tiles)), np.arange(len(pairs)))
    for rows in tiles:
        assert rows.size > 0 and np.unique(array[rows]).size <= limit


@pytest.mark.parametrize(
    ("config", "costs", "rows"),
    [
        (SimulationConfig(), COSTS, "+market_rows"),
        (SimulationConfig(stop_loss=0.01, trailing_stop=0.02), COSTS, "+general_rows"),
        (SimulationConfig(take_profit=0.03, fill_on_close=True), COSTS, "+general_rows"),
        (SimulationConfig(), Costs(commission_model=int(CommissionModel.TIERED)), "+general_rows"),
    ],
)
def test_the_rows_loop_is_chosen_once_per_grid_and_named(
    config: SimulationConfig, costs: Costs, rows: str
) -> None:
    bars = _bars(600, 3)
    candidates = grid_candidates({"fast": [3, 5], "slow": [13, 21], "allow_short": [False, True]})
    per_row = evaluate("sma_cross", candidates, bars, config, costs, shared_average_bytes=0)
    shared = evaluate("sma_cross", candidates, bars, config, costs)
    assert shared.path == "shared_averages" + rows
    for name in SUMMARY_COLUMNS:
        np.testing.assert_array_equal(per_row.metrics[name], shared.metrics[name])
