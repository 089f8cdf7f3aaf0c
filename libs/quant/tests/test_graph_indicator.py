"""Indicator graphs (a user's own indicator as a builder graph): ``sink.output`` nodes name the
outputs, computed by the same kernels; a strategy's sinks are refused there, and the reverse."""

from __future__ import annotations

import numpy as np
import pytest
from graph_testkit import GraphBuilder

from tradeloom.quant import indicators as ind
from tradeloom.quant.graph import GraphInvalid, check_graph, compile_indicator
from tradeloom.quant.simulator import Bars


def _bars(close: np.ndarray) -> Bars:
    return Bars(close, close + 1.0, close - 1.0, close, np.ones_like(close))


def test_outputs_are_named_by_their_nodes_and_computed_by_the_kernels() -> None:
    g = GraphBuilder()
    close = g.out("input.close", node_id="close")
    sma = g.out("indicator.sma", {"in": close}, window=3)
    g.add("sink.output", {"value": sma}, node_id="sma3")
    g.add("sink.output", {"value": g.out("math.subtract", {"a": close, "b": sma})}, node_id="spread")
    g.add("indicator.ema", {"in": close}, window=5)  # no output needs it: not evaluated
    plan = compile_indicator(g.graph())
    assert len(plan.steps) == 3
    close_values = np.linspace(100.0, 120.0, 40)
    series = plan.series(_bars(close_values))
    expected = ind.sma(close_values, 3)
    np.testing.assert_array_equal(series["sma3"], expected)
    np.testing.assert_allclose(series["spread"][2:], close_values[2:] - expected[2:])
    assert np.isnan(series["spread"][:2]).all()


def test_each_wrong_node_is_named() -> None:
    g = GraphBuilder()
    close = g.out("input.close", node_id="close")
    g.add("sink.enter_long", {"when": g.out("compare.greater", {"a": close, "b": close})}, node_id="enter")
    g.add("state.position", node_id="held")
    with pytest.raises(GraphInvalid) as raised:
        compile_indicator(g.graph())
    found = {(issue.code, issue.node) for issue in raised.value.issues}
    assert found == {("wrong_graph_kind", "enter"), ("wrong_graph_kind", "held"), ("no_output", None)}
    strategy = GraphBuilder()
    strategy.add("sink.output", {"value": strategy.out("input.close")}, node_id="out")
    with pytest.raises(GraphInvalid) as refused:
        check_graph(strategy.graph())
    assert ("unknown_node_type", "out") in {(issue.code, issue.node) for issue in refused.value.issues}
