"""``state.position``: the held position resolved bar by bar (kernel = reference), gating sinks."""

from __future__ import annotations

import numpy as np
from graph_testkit import GraphBuilder, Out
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from quant_testkit import random_walk_bars

from tradeloom.quant.graph import Graph, IssueCode, compile_graph, graph_issues
from tradeloom.quant.graph.kernels import held_position
from tradeloom.quant.reference import graph as ref
from tradeloom.quant.simulator import Bars, Signals, run_simulation


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40).flatmap(lambda n: st.tuples(*(arrays(np.bool_, (3, n)) for _ in range(4)))))
def test_held_position_kernel_equals_reference(sinks: tuple[np.ndarray, ...]) -> None:
    for got, expected in zip(held_position(*sinks), ref.held_position(*sinks), strict=True):
        np.testing.assert_array_equal(got, expected)


def _gated(gate: bool) -> Graph:
    """Long when the bar closes up, out when it closes down; ``gate``: only when flat / only when long."""
    g = GraphBuilder()
    close, open_ = g.out("input.close"), g.out("input.open")
    up = g.out("compare.greater", {"a": close, "b": open_})
    down = g.out("compare.less", {"a": close, "b": open_})
    if gate:
        held = g.out("state.position")
        zero = g.out("const.number", value=0.0)
        flat: Out = g.out("compare.less_equal", {"a": held, "b": zero})
        long: Out = g.out("compare.greater", {"a": held, "b": zero})
        up = g.out("logic.and", {"a": up, "b": flat})
        down = g.out("logic.and", {"a": down, "b": long})
    g.add("sink.enter_long", {"when": up})
    g.add("sink.exit_long", {"when": down})
    return g.graph()


def test_position_gates_the_sinks_and_the_simulator_agrees() -> None:
    b = random_walk_bars(2_000, seed=5)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    el, xl, _, _, _ = compile_graph(_gated(True)).signals(bars)
    held, want_el, want_xl = 0, [], []
    for t in range(len(b.close)):  # the same rule written out
        want_el.append(bool(b.close[t] > b.open[t] and held <= 0))
        want_xl.append(bool(b.close[t] < b.open[t] and held > 0))
        held = 1 if want_el[-1] else (0 if want_xl[-1] else held)
    assert el.tolist() == want_el and xl.tolist() == want_xl
    plain = compile_graph(_gated(False)).signals(bars)
    gated = run_simulation(bars, Signals(el, xl))
    ungated = run_simulation(bars, Signals(plain[0], plain[1]))
    assert len(gated.trades) > 100  # a redundant entry (already long) changes nothing in the simulator
    np.testing.assert_array_equal(gated.trades.table, ungated.trades.table)


def test_only_element_wise_nodes_may_follow_the_position() -> None:
    g = GraphBuilder()
    smoothed = g.out("indicator.sma", {"in": g.out("state.position", node_id="held")}, window=3)
    g.add("sink.enter_long", {"when": g.out("compare.greater", {"a": g.out("input.close"), "b": smoothed})})
    issues = {(i.code, i.node, i.port) for i in graph_issues(g.graph())}
    assert issues == {(IssueCode.POSITION_FEEDBACK, "n1", "in")}
