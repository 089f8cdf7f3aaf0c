"""Grid and DCA multi-lot simulators equal their references; worked examples pin the rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import assert_series_close, random_walk_bars
from quant_testkit import costs as cost_strategy

from tradeloom.quant.fills.models import Costs, normalized_costs
from tradeloom.quant.reference.lots import reference_dca, reference_grid
from tradeloom.quant.simulator.lots import dca_simulate, grid_simulate


def _same(got: tuple, want: tuple) -> None:  # type: ignore[type-arg]
    assert got[0].shape == want[0].shape and got[3] == want[3]
    for column in range(got[0].shape[1]):
        assert_series_close(got[0][:, column], want[0][:, column])
    assert_series_close(got[1], want[1])
    assert_series_close(got[2], want[2])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 150), st.integers(0, 2**32 - 1), st.integers(2, 8), st.floats(50, 5000), st.booleans(),
       cost_strategy)  # fmt: skip
def test_grid_matches_reference(
    n: int, seed: int, count: int, per_lot: float, whole: bool, costs: Costs
) -> None:
    b = random_walk_bars(n, seed, step=0.02)
    levels = np.linspace(80.0, 120.0, count)
    args = (b.open, b.high, b.low, b.close, levels, per_lot, 10_000.0, whole, normalized_costs(costs))
    _same(grid_simulate(*args), reference_grid(*args))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 150), st.integers(0, 2**32 - 1), st.integers(1, 10), st.floats(10, 3000),
       st.one_of(st.just(math.nan), st.floats(0.005, 0.1)), st.booleans(), cost_strategy)  # fmt: skip
def test_dca_matches_reference(
    n: int, seed: int, interval: int, amount: float, tp: float, whole: bool, costs: Costs
) -> None:
    b = random_walk_bars(n, seed, step=0.02)
    args = (b.open, b.high, b.low, b.close, interval, amount, tp, 10_000.0, whole, normalized_costs(costs))
    _same(dca_simulate(*args), reference_dca(*args))


def test_grid_worked_example() -> None:
    # down through the 100 level (buy there), then up through 110 (that lot's sell level)
    close = np.array([105.0, 99.0, 95.0, 101.0, 106.0, 111.0])
    open_ = np.array([105.0, 104.0, 99.0, 95.0, 101.0, 106.0])
    high = np.maximum(open_, close) + 0.5
    low = np.minimum(open_, close) - 0.5
    levels = np.array([90.0, 100.0, 110.0])
    trades, equity, position, bad = grid_simulate(open_, high, low, close, levels, 1000.0, 10_000.0, False,
                                                  normalized_costs(Costs()))  # fmt: skip
    assert bad == -1 and len(trades) == 1
    entry_bar, exit_bar, entry, exit_ = trades[0, 1], trades[0, 2], trades[0, 3], trades[0, 4]
    assert (entry_bar, entry) == (1.0, 100.0)  # touched 100 on bar 1 (low 98.5)
    assert (exit_bar, exit_) == (5.0, 110.0)  # next level up reached on bar 5
    assert trades[0, 6] == pytest.approx(10.0 * 10.0)  # 10 units × 10
    assert position[1] == 10.0 and position[5] == 0.0 and equity[-1] == pytest.approx(10_100.0)


def test_dca_worked_example() -> None:
    open_ = np.array([100.0, 50.0, 100.0, 200.0])
    close = open_.copy()
    trades, equity, position, _ = dca_simulate(open_, open_, open_, close, 1, 100.0, math.nan, 1_000.0, False,
                                               normalized_costs(Costs()))  # fmt: skip
    assert position.tolist() == [1.0, 3.0, 4.0, 4.5]
    assert equity[-1] == pytest.approx(600.0 + 4.5 * 200.0)
    assert len(trades) == 4 and (trades[:, 11] == 4).all()  # all still open at the end
    tp_trades, _, tp_position, _ = dca_simulate(open_, open_, open_, close, 1, 100.0, 0.2, 1_000.0, False,
                                                normalized_costs(Costs()))  # fmt: skip
    # average cost after bar 2 is 300/4 = 75; its close of 100 is +33 %: every lot sold at bar 3's open
    assert tp_position[3] == 0.5 and tp_trades[0, 2] == 3 and tp_trades[0, 4] == 200.0


def test_lot_strategies_validate_and_run() -> None:
    from tradeloom.quant.metrics import compute_metrics
    from tradeloom.quant.simulator import Bars
    from tradeloom.quant.strategies import LOT_STRATEGIES, run_lot_strategy

    b = random_walk_bars(500, 4)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    for name in LOT_STRATEGIES:
        result = run_lot_strategy(name, bars, {}, 20_000.0)
        assert result.equity.shape == (500,) and len(result.trades) > 0
        assert compute_metrics(result, b.close, 20_000.0).metrics["final_equity"] == result.equity[-1]
    with pytest.raises(ValueError, match=r"^upper:"):
        run_lot_strategy("grid", bars, {"lower": 120.0, "upper": 100.0}, 1e4)
    with pytest.raises(ValueError, match=r"^levels:"):
        run_lot_strategy("grid", bars, {"levels": 1}, 1e4)
    with pytest.raises(ValueError, match=r"^interval:"):
        run_lot_strategy("dca", bars, {"interval": 0}, 1e4)
    with pytest.raises(ValueError, match=r"^strategy:"):
        run_lot_strategy("martingale", bars, {}, 1e4)
