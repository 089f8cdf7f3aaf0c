"""Grid/random search and walk-forward: every row equals a single run; folds never look ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.metrics import compute_metrics
from tradeloom.quant.optimise import (
    SUMMARY_COLUMNS,
    evaluate,
    grid_candidates,
    random_candidates,
    summary_metrics,
    walk_forward,
)
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies import OhlcArrays, strategy_signals

COSTS = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=0.0005, taker_rate=0.001)


def _bars(n: int, seed: int) -> Bars:
    b = random_walk_bars(n, seed)
    return Bars(b.open, b.high, b.low, b.close, b.volume)


def _single(
    strategy: str, params: dict[str, object], bars: Bars, config: SimulationConfig
) -> dict[str, float]:
    signals = strategy_signals(strategy, OhlcArrays(bars.open, bars.high, bars.low, bars.close), params)
    run = run_simulation(bars, Signals(*signals), config, COSTS)
    return compute_metrics(run, bars.close, config.initial_cash, periods_per_year=365.0).metrics


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1), st.booleans())
def test_compiled_summary_equals_python_metrics(n: int, seed: int, short: bool) -> None:
    bars = _bars(n, seed)
    config = SimulationConfig(initial_cash=5_000.0)
    signals = strategy_signals("sma_cross", OhlcArrays(bars.open, bars.high, bars.low, bars.close),
                               {"fast": 3, "slow": 7, "allow_short": short})  # fmt: skip
    run = run_simulation(bars, Signals(*signals), config, COSTS)
    summary = summary_metrics(run.equity, run.position, run.trades.table, 5_000.0, 365.0)
    if n == 0:
        assert np.isnan(summary).all()
        return
    full = compute_metrics(run, bars.close, 5_000.0, periods_per_year=365.0).metrics
    for name, value in zip(SUMMARY_COLUMNS, summary, strict=True):
        expected = full["cagr"] if name == "cagr" else full[name]
        assert (np.isnan(value) and np.isnan(expected)) or value == pytest.approx(
            expected, rel=1e-9, abs=1e-12
        ), name


def test_grid_rows_equal_single_runs_and_tables() -> None:
    bars = _bars(1500, 3)
    config = SimulationConfig(whole_units=True)
    candidates = grid_candidates({"fast": [5, 10, 20], "slow": [10, 20, 40], "allow_short": [False, True]})
    results = evaluate("sma_cross", candidates, bars, config, COSTS, periods_per_year=365.0)
    assert len(candidates) == 18 and results.skipped == 6 and len(results) == 12
    for row in (0, 5, 11):
        params = {name: values[row] for name, values in results.params.items()}
        params = {
            "fast": int(params["fast"]),
            "slow": int(params["slow"]),
            "allow_short": bool(params["allow_short"]),
        }
        single = _single("sma_cross", params, bars, config)
        for name in SUMMARY_COLUMNS:
            assert results.metrics[name][row] == pytest.approx(single[name], rel=1e-9, nan_ok=True), name
    best, value = results.best("total_return")
    assert value == np.nanmax(results.metrics["total_return"]) and set(best) == {
        "fast",
        "slow",
        "allow_short",
    }
    xs, ys, grid = results.heatmap("fast", "slow", "total_return")
    assert xs.tolist() == [5, 10, 20] and ys.tolist() == [10, 20, 40] and grid.shape == (3, 3)
    assert np.isnan(grid[0, 1]) and np.isnan(grid[1, 2])  # fast ≥ slow was never run
    assert np.nanmax(grid) == value
    assert len(results.rows()) == 12
    with pytest.raises(ValueError, match="metric"):
        results.best("nope")


def test_random_candidates_respect_the_space_and_seed() -> None:
    draws = random_candidates(
        "rsi_reversion", {"window": (5, 30), "oversold": (10.0, 40.0), "allow_short": [True]}, 50, 7
    )
    assert draws == random_candidates(
        "rsi_reversion", {"window": (5, 30), "oversold": (10.0, 40.0), "allow_short": [True]}, 50, 7
    )
    assert all(5 <= d["window"] <= 30 and 10 <= d["oversold"] <= 40 and d["allow_short"] for d in draws)  # type: ignore[operator]
    results = evaluate("rsi_reversion", draws, _bars(800, 1), periods_per_year=365.0)
    assert len(results) == 50 and results.skipped == 0


def test_walk_forward_folds_stitch_and_do_not_look_ahead() -> None:
    bars = _bars(2000, 9)
    candidates = grid_candidates({"fast": [5, 10, 15], "slow": [20, 40]})
    result = walk_forward("sma_cross", candidates, bars, 600, 300, costs=COSTS, periods_per_year=365.0)
    assert [f.out_of_sample for f in result.folds] == [
        (600, 900),
        (900, 1200),
        (1200, 1500),
        (1500, 1800),
        (1800, 2000),
    ]
    assert result.index.tolist() == list(range(600, 2000))
    first = result.folds[0]
    in_sample = Bars(*(a[:600] for a in (bars.open, bars.high, bars.low, bars.close, bars.volume)))
    best, _ = evaluate("sma_cross", candidates, in_sample, None, COSTS, periods_per_year=365.0).best("sharpe")
    assert first.params == best
    # trading the first out-of-sample window alone from its start gives the same equity
    window = Bars(*(a[:900] for a in (bars.open, bars.high, bars.low, bars.close, bars.volume)))
    signals = list(
        strategy_signals("sma_cross", OhlcArrays(window.open, window.high, window.low, window.close), best)
    )
    for flags in signals[:4]:
        flags[:600] = False
    alone = run_simulation(window, Signals(*signals), None, COSTS)
    np.testing.assert_allclose(result.equity[:300], alone.equity[600:], rtol=1e-12)
    assert result.metrics["total_return"] == pytest.approx(result.equity[-1] / 10_000.0 - 1)
    with pytest.raises(ValueError, match="in_sample"):
        walk_forward("sma_cross", candidates, bars, 1900, 200)


def test_search_refuses_bad_bars_and_unknown_names() -> None:
    bars = _bars(100, 1)
    close = bars.close.copy()
    close[40] = np.nan
    broken = Bars(bars.open, bars.high, bars.low, close, bars.volume)
    with pytest.raises(ValueError, match="bar 40"):
        evaluate("sma_cross", [{}], broken)
    with pytest.raises(ValueError, match="strategy"):
        evaluate("nope", [{}], bars)
    with pytest.raises(ValueError, match="window"):
        random_candidates("sma_cross", {"window": (1, 3)}, 5)
