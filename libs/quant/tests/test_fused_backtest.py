"""The fused SMA-cross backtest (``backtest.fused``) equals its reference, the three-pass path
(``sma_cross`` → ``run_simulation`` → ``summary_metrics``, ``strategy_counters``), bit for bit:
trades, equity, position, counters, events and the ten figures — windows, shorts on and off, fills
on the close or the next open, fees, slippage and sizing; and ``run_template_backtest`` says which
path ran."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import configs, costs, random_walk_bars

from tradeloom.quant.backtest import FUSED, THREE_PASS, fused_qualifies, run_template_backtest
from tradeloom.quant.backtest.api import _three_pass
from tradeloom.quant.fills.models import CommissionModel, Costs, SlippageModel, normalized_costs
from tradeloom.quant.simulator import Bars, SimulationConfig
from tradeloom.quant.simulator.config import normalized_config


def _bars(n: int, seed: int) -> Bars:
    b = random_walk_bars(n, seed)
    return Bars(b.open, b.high, b.low, b.close, b.volume)


def _assert_same(bars: Bars, params: dict[str, object], config: SimulationConfig, cost: Costs) -> str:
    fused = run_template_backtest("sma_cross", params, bars, config, cost, periods_per_year=365.0)
    full = {"fast": 10, "slow": 20, "allow_short": False} | params
    config, cost = normalized_config(config), normalized_costs(cost)
    reference = _three_pass("sma_cross", full, bars, config, cost, 20, 365.0)
    assert reference.path == THREE_PASS
    np.testing.assert_array_equal(fused.simulation.trades.table, reference.simulation.trades.table)
    np.testing.assert_array_equal(fused.simulation.equity, reference.simulation.equity)
    np.testing.assert_array_equal(fused.simulation.position, reference.simulation.position)
    assert fused.simulation.counters == reference.simulation.counters
    assert fused.events == reference.events
    np.testing.assert_array_equal(
        np.array(list(fused.summary.values())), np.array(list(reference.summary.values()))
    )
    assert list(fused.summary) == list(reference.summary)
    return fused.path


def _without_exits_or_limit(config: SimulationConfig) -> SimulationConfig:
    return config._replace(
        stop_loss=math.nan, take_profit=math.nan, trailing_stop=math.nan, max_entries_per_day=0
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 400),
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(13, 40),
    st.booleans(),
    configs.map(_without_exits_or_limit),
    costs.filter(lambda c: c.commission_model != CommissionModel.TIERED),
)
def test_fused_equals_the_three_pass_path_exactly(
    n: int, seed: int, fast: int, slow: int, short: bool, config: SimulationConfig, cost: Costs
) -> None:
    path = _assert_same(_bars(n, seed), {"fast": fast, "slow": slow, "allow_short": short}, config, cost)
    assert path == FUSED


@pytest.mark.parametrize("on_close", [False, True])
@pytest.mark.parametrize("short", [False, True])
@pytest.mark.parametrize(("fast", "slow"), [(2, 3), (10, 20), (30, 200)])
def test_fused_on_a_long_walk_with_fees_and_slippage(
    on_close: bool, short: bool, fast: int, slow: int
) -> None:
    bars = _bars(30_000, 5)  # crosses the every-1024-bars resynchronisation of the running sums
    cost = Costs(slippage_model=int(SlippageModel.PERCENT), slippage=0.0005,
                 commission_model=int(CommissionModel.PERCENT), taker_rate=0.001)  # fmt: skip
    config = SimulationConfig(initial_cash=1e6, whole_units=True, fill_on_close=on_close)
    assert _assert_same(bars, {"fast": fast, "slow": slow, "allow_short": short}, config, cost) == FUSED


def test_other_strategies_and_configs_take_the_three_pass_path() -> None:
    bars = _bars(2_000, 7)
    plain = normalized_config(SimulationConfig())
    assert fused_qualifies("sma_cross", plain, normalized_costs(Costs()))
    assert not fused_qualifies("ema_cross", plain, normalized_costs(Costs()))
    assert not fused_qualifies("sma_cross", plain._replace(stop_loss=0.02), normalized_costs(Costs()))
    assert not fused_qualifies("sma_cross", plain._replace(max_entries_per_day=1), normalized_costs(Costs()))
    tiered = normalized_costs(Costs(commission_model=int(CommissionModel.TIERED)))
    assert not fused_qualifies("sma_cross", plain, tiered)
    stopped = run_template_backtest("sma_cross", {}, bars, SimulationConfig(stop_loss=0.02))
    assert stopped.path == THREE_PASS and stopped.signals is not None
    assert run_template_backtest("ema_cross", {}, bars).path == THREE_PASS


def test_bad_bars_and_parameters_are_refused_naming_the_field() -> None:
    bars = _bars(500, 8)
    bars.close[300] = np.nan
    with pytest.raises(ValueError, match="bar 300"):
        run_template_backtest("sma_cross", {}, bars)
    with pytest.raises(ValueError, match="slow"):
        run_template_backtest("sma_cross", {"fast": 30, "slow": 20}, _bars(100, 1))
    with pytest.raises(ValueError, match="strategy"):
        run_template_backtest("no_such", {}, _bars(100, 1))
