"""Graph validation names the node and port (or parameter) of every error; valid graphs pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from graph_testkit import GraphBuilder, sma_cross_graph, valid_graphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeloom.quant.graph import (
    NODE_TYPES,
    Edge,
    Graph,
    GraphInvalid,
    IssueCode,
    Node,
    check_graph,
    graph_issues,
)

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _where(graph: Graph) -> set[tuple[str, str | None, str | None]]:
    return {(i.code, i.node, i.port or i.param) for i in graph_issues(graph)}


def _edit(graph: Graph, nodes: list[Node] | None = None, edges: list[Edge] | None = None) -> Graph:
    return Graph(
        tuple(graph.nodes if nodes is None else nodes), tuple(graph.edges if edges is None else edges)
    )


def test_sma_cross_graph_is_valid_and_catalog_describes_itself() -> None:
    assert graph_issues(sma_cross_graph(10, 20)) == []
    for spec in NODE_TYPES.values():
        described = spec.as_dict()
        assert described["category"] in {"input", "indicator", "const", "math", "compare", "cross", "window",
                                          "logic", "state", "sink"}  # fmt: skip
        assert spec.compute is not None or spec.category == "sink"


def test_unknown_node_type() -> None:
    g = sma_cross_graph(10, 20)
    nodes = [replace(n, type="indicator.magic") if n.id == "n1" else n for n in g.nodes]
    assert (IssueCode.UNKNOWN_NODE_TYPE, "n1", None) in _where(_edit(g, nodes))


def test_wrong_port_type() -> None:
    g = sma_cross_graph(10, 20)  # a number (the close) into the enter sink's bool input
    edges = [replace(e, source="close", source_port="out") if e.target == "enter" else e for e in g.edges]
    assert _where(_edit(g, edges=edges)) == {(IssueCode.WRONG_PORT_TYPE, "enter", "when")}


def test_unknown_ports_and_nodes_are_named() -> None:
    g = sma_cross_graph(10, 20)
    edges = [
        *g.edges,
        Edge("close", "out", "n1", "other"),
        Edge("close", "nope", "n3", "b"),
        Edge("ghost", "out", "n4", "a"),
        Edge("close", "out", "ghost2", "in"),
    ]
    found = _where(_edit(g, edges=edges))
    assert (IssueCode.UNKNOWN_PORT, "n1", "other") in found
    assert (IssueCode.UNKNOWN_PORT, "close", "nope") in found
    assert (IssueCode.UNKNOWN_NODE, "n4", "a") in found
    assert (IssueCode.UNKNOWN_NODE, "ghost2", "in") in found


def test_cycle_names_its_nodes_and_ports() -> None:
    g = GraphBuilder()
    close = g.out("input.close", node_id="close")
    g.add("math.add", {"a": close, "b": ("avg", "out")}, node_id="sum")
    g.add("indicator.sma", {"in": ("sum", "out")}, node_id="avg", window=3)
    up = g.out("cross.above", {"a": close, "b": ("avg", "out")})
    g.add("sink.enter_long", {"when": up})
    found = _where(g.graph())
    assert found == {(IssueCode.CYCLE, "sum", "b"), (IssueCode.CYCLE, "avg", "in")}


def test_unreachable_sink_and_no_entry() -> None:
    g = GraphBuilder()
    one = g.out("const.number", value=1.0)
    two = g.out("const.number", value=2.0)
    g.add("sink.exit_long", {"when": g.out("compare.less", {"a": one, "b": two})}, node_id="exit")
    found = _where(g.graph())
    assert found == {(IssueCode.UNREACHABLE_SINK, "exit", "when"), (IssueCode.NO_ENTRY, None, None)}


def test_missing_and_duplicate_inputs() -> None:
    g = sma_cross_graph(10, 20)
    edges = [e for e in g.edges if not (e.target == "n3" and e.target_port == "b")]
    edges.append(Edge("close", "out", "n1", "in"))
    found = _where(_edit(g, edges=edges))
    assert found == {(IssueCode.MISSING_INPUT, "n3", "b"), (IssueCode.DUPLICATE_INPUT, "n1", "in")}


@pytest.mark.parametrize(
    ("params", "param"),
    [({"window": 0}, "window"), ({"window": 10_001}, "window"), ({"window": 2.5}, "window"),
     ({"window": True}, "window"), ({"span": 3}, "span")],
)  # fmt: skip
def test_parameter_out_of_range(params: dict[str, int | float | bool], param: str) -> None:
    g = sma_cross_graph(10, 20)
    nodes = [replace(n, params=params) if n.id == "n1" else n for n in g.nodes]
    assert _where(_edit(g, nodes)) == {(IssueCode.PARAM_INVALID, "n1", param)}


def test_duplicate_ids_and_sinks() -> None:
    g = sma_cross_graph(10, 20)
    nodes = [*g.nodes, Node("n1", "input.open"), Node("sl1", "sink.stop_loss"), Node("sl2", "sink.stop_loss")]
    found = _where(_edit(g, nodes))
    assert found == {(IssueCode.DUPLICATE_NODE, "n1", None), (IssueCode.DUPLICATE_SINK, "sl2", None)}
    with pytest.raises(GraphInvalid, match=r"^graph: n1: node id 'n1' is used twice"):
        check_graph(_edit(g, nodes))


@EXAMPLES
@given(valid_graphs())
def test_random_valid_graphs_validate(graph: Graph) -> None:
    assert graph_issues(graph) == []


def _mutations(graph: Graph) -> list[tuple[Graph, tuple[str, str | None, str | None]]]:
    """Each mutation with the issue it must raise (code, node, port or parameter)."""
    out: list[tuple[Graph, tuple[str, str | None, str | None]]] = []
    by_id = {n.id: n for n in graph.nodes}
    for node in graph.nodes:
        if node.type.startswith("sink."):
            continue
        nodes = [replace(n, type="bogus.node") if n is node else n for n in graph.nodes]
        out.append((_edit(graph, nodes), (IssueCode.UNKNOWN_NODE_TYPE, node.id, None)))
        if "window" in {p.name for p in NODE_TYPES[node.type].params}:
            nodes = [replace(n, params={"window": -1}) if n is node else n for n in graph.nodes]
            out.append((_edit(graph, nodes), (IssueCode.PARAM_INVALID, node.id, "window")))
    for index, edge in enumerate(graph.edges):
        rest = [e for i, e in enumerate(graph.edges) if i != index]
        out.append((_edit(graph, edges=rest), (IssueCode.MISSING_INPUT, edge.target, edge.target_port)))
        kind = {p.name: p.kind for p in NODE_TYPES[by_id[edge.target].type].inputs}[edge.target_port]
        if kind == "bool":  # a number where a bool belongs
            nodes = [*graph.nodes, Node("bad_source", "input.close")]
            edges = [*rest, Edge("bad_source", "out", edge.target, edge.target_port)]
            out.append(
                (_edit(graph, nodes, edges), (IssueCode.WRONG_PORT_TYPE, edge.target, edge.target_port))
            )
        elif not by_id[edge.target].type.startswith("sink."):
            target_out = NODE_TYPES[by_id[edge.target].type].outputs[0]
            if target_out.kind == "number":  # feed the target's own output back into this input
                edges = [*rest, Edge(edge.target, target_out.name, edge.target, edge.target_port)]
                out.append((_edit(graph, edges=edges), (IssueCode.CYCLE, edge.target, edge.target_port)))
    return out


@EXAMPLES
@given(valid_graphs(), st.data())
def test_random_mutations_are_refused_naming_node_and_port(graph: Graph, data: st.DataObject) -> None:
    mutated, expected = data.draw(st.sampled_from(_mutations(graph)))
    issues = graph_issues(mutated)
    assert expected in {(i.code, i.node, i.port or i.param) for i in issues}
    assert all(i.node is not None for i in issues if i.code != IssueCode.NO_ENTRY)
