"""External nodes (a user's Python indicator): their series are given to ``signals``, and a graph
fed the SMAs as given series makes the same signals as the graph computing them."""

from __future__ import annotations

import numpy as np
import pytest
from graph_testkit import sma_cross_graph
from quant_testkit import random_walk_bars

from tradeloom.quant.graph import EXTERNAL, Edge, Graph, GraphInvalid, Node, compile_graph
from tradeloom.quant.indicators import sma
from tradeloom.quant.simulator import Bars


def fed_graph(outputs: tuple[str, ...] = ("quick", "calm")) -> Graph:
    nodes = (
        Node("ind", EXTERNAL, outputs=outputs),
        Node("up", "cross.above"),
        Node("down", "cross.below"),
        Node("enter", "sink.enter_long"),
        Node("exit", "sink.exit_long"),
    )
    edges = (
        Edge("ind", "quick", "up", "a"),
        Edge("ind", "calm", "up", "b"),
        Edge("ind", "quick", "down", "a"),
        Edge("ind", "calm", "down", "b"),
        Edge("up", "out", "enter", "when"),
        Edge("down", "out", "exit", "when"),
    )
    return Graph(nodes, edges)


def test_given_series_feed_the_graph_like_computed_ones() -> None:
    b = random_walk_bars(300, seed=7)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume, np.arange(300, dtype=np.int64))
    plan = compile_graph(fed_graph())
    assert plan.external == {"ind": ("quick", "calm")}
    given = {"ind": {"quick": sma(b.close, 4), "calm": sma(b.close, 15)}}
    ours = plan.signals(bars, given)
    theirs = compile_graph(sma_cross_graph(4, 15), fused=False).signals(bars)
    for mine, expected in zip(ours[:4], theirs[:4], strict=True):
        assert np.array_equal(mine, expected)
    assert ours[0].any()
    with pytest.raises(ValueError, match="ind: no series given for its output 'calm'"):
        plan.signals(bars, {"ind": {"quick": given["ind"]["quick"]}})
    with pytest.raises(ValueError, match="not one value per bar"):
        plan.signals(bars, {"ind": {"quick": np.zeros(3), "calm": np.zeros(3)}})


def test_an_edge_from_an_output_the_node_does_not_give_is_named() -> None:
    with pytest.raises(GraphInvalid) as caught:
        compile_graph(fed_graph(("quick",)))
    assert {(i.code, i.node, i.port) for i in caught.value.issues} == {("unknown_port", "ind", "calm")}


def test_without_declared_outputs_the_ports_read_are_the_outputs() -> None:
    assert compile_graph(fed_graph(())).external == {"ind": ("calm", "quick")}
