"""A builder graph in a backtest request: compiled, its setting sinks in the config, same trades."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from graph_bodies import sma_cross_graph

from tradeloom.backtest_engine.domain.graph_plan import GraphPlanError
from tradeloom.backtest_engine.domain.run_plan import PlanError, plan_run
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.quant.fills import SizingMode
from tradeloom.shared.contracts.backtest import SubmitBacktest


def request(**overrides: Any) -> SubmitBacktest:
    body: dict[str, Any] = {
        "strategy": "graph",
        "graph": sma_cross_graph(),
        "symbol": "ETH/USDT",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-02T00:00:00Z",
    }
    return SubmitBacktest.model_validate(body | overrides)


def test_a_graph_plan_runs_the_same_trades_as_the_builtin() -> None:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 800)))
    open_ = np.concatenate([[100.0], close[:-1]])
    bars = BarArrays(np.arange(800, dtype=np.int64) * 3_600 * 10**9, open_, np.maximum(open_, close) * 1.001,
                     np.minimum(open_, close) * 0.999, close, np.full(800, 1e3))  # fmt: skip
    graph_plan = plan_run(request())
    assert graph_plan.strategy == "graph" and graph_plan.params == {} and graph_plan.graph is not None
    builtin = plan_run(request(strategy="sma_cross", graph=None, params={"fast": 5, "slow": 20}))
    ours, theirs = run_backtest(graph_plan, bars), run_backtest(builtin, bars)
    assert len(theirs.trades) > 10
    np.testing.assert_array_equal(ours.trades, theirs.trades)
    np.testing.assert_array_equal(ours.equity, theirs.equity)


def test_setting_sinks_become_the_config_and_may_not_be_given_twice() -> None:
    plan = plan_run(request(graph=sma_cross_graph(stop_loss=0.05, trailing_stop=0.1, position_size=0.5)))
    assert (plan.config.stop_loss, plan.config.trailing_stop) == (0.05, 0.1)
    assert math.isnan(plan.config.take_profit)
    assert (plan.config.sizing_mode, plan.config.sizing_value) == (int(SizingMode.PERCENT_EQUITY), 0.5)
    with pytest.raises(PlanError) as twice:
        plan_run(request(graph=sma_cross_graph(stop_loss=0.05), stop_loss="0.02"))
    assert twice.value.field == "stop_loss"
    with pytest.raises(PlanError) as sizing:
        plan_run(
            request(graph=sma_cross_graph(position_size=0.5), sizing={"mode": "fixed_cash", "value": "100"})
        )
    assert sizing.value.field == "sizing"
    with pytest.raises(PlanError) as optimise:
        plan_run(request(optimise={"method": "grid", "space": {"fast": {"values": [3, 5]}}}))
    assert optimise.value.field == "optimise"


def test_an_invalid_graph_names_every_node_and_port() -> None:
    graph = sma_cross_graph()
    graph["nodes"][1]["params"] = {"window": 0}
    graph["edges"] = graph["edges"][:-1]  # the exit sink loses its input
    with pytest.raises(GraphPlanError) as caught:
        plan_run(request(graph=graph))
    found = {(i.code, i.node, i.port or i.param) for i in caught.value.issues}
    assert found == {("param_invalid", "fast", "window"), ("missing_input", "exit", "when")}
    assert caught.value.field.startswith("graph.nodes.")
