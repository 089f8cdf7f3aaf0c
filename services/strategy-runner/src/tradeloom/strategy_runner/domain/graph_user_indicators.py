"""``user_indicator`` nodes of a strategy graph: checked, then the builder-graph indicator each one
names inlined, so what is saved and compiled is a plain graph of catalog nodes, and each Python
indicator's node kept with its source and parameters copied in.

Pure: no NATS, SQL or HTTP. A ``user_indicator`` node has no inputs and no ``params``; its output
ports are the indicator version's outputs (a graph one's ``sink.output`` node ids; a Python one's
output names, as its ``compute`` answered over probe bars in the sandbox). Inlining copies a graph
indicator's other nodes as ``<node id>.<inner id>`` and wires each edge out of an output port from
what fed that ``sink.output``. A Python (kind ``code``) indicator's node stays: its series are
computed in the sandbox before the compiled graph runs (``tradeloom.quant.graph.EXTERNAL``). An
unknown indicator, an unknown version and another user's answer the same issue.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradeloom.quant.graph import GraphIssue
from tradeloom.quant.graph.model import IssueCode
from tradeloom.shared.contracts.strategy_graph import (
    MAX_EDGES,
    MAX_NODES,
    GraphEdge,
    GraphNode,
    StrategyGraph,
)
from tradeloom.strategy_runner.domain.graph import GraphRefused

NODE_TYPE = "user_indicator"
OUTPUT = "sink.output"
UNKNOWN_INDICATOR = "unknown_user_indicator"
MAX_ID = 64
MAX_CODE_NODES = 4  # each is one sandbox execution per backtest, its source copied into the graph


@dataclass(frozen=True)
class IndicatorVersion:
    """One version of one of the caller's indicators, as stored; a Python one with the output names
    its ``compute`` gave over probe bars."""

    kind: str  # code or graph
    graph: Mapping[str, Any] | None
    code: str | None = None
    params: Mapping[str, int | float | bool] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()


def references(graph: StrategyGraph) -> list[tuple[str, int]]:
    """(indicator id, version) of every ``user_indicator`` node that names one."""
    return [
        (node.indicator.indicator_id, node.indicator.version)
        for node in graph.nodes
        if node.type == NODE_TYPE and node.indicator is not None
    ]


def _issue(
    code: str, message: str, node: str, *, port: str | None = None, param: str | None = None
) -> GraphIssue:
    return GraphIssue(code, message, node, port, param)


def _node_issues(node: GraphNode, found: Mapping[tuple[str, int], IndicatorVersion]) -> list[GraphIssue]:
    if node.type != NODE_TYPE:
        if node.indicator is not None:
            return [
                _issue(
                    IssueCode.PARAM_INVALID,
                    f"only a {NODE_TYPE} node names an indicator",
                    node.id,
                    param="indicator",
                )
            ]
        return []
    if node.indicator is None:
        return [
            _issue(IssueCode.PARAM_INVALID, "name your indicator and its version", node.id, param="indicator")
        ]
    issues = [
        _issue(IssueCode.PARAM_INVALID, "a user_indicator node takes no params", node.id, param=name)
        for name in node.params
    ]
    ref = node.indicator
    version = found.get((ref.indicator_id, ref.version))
    if version is None:
        message = f"no indicator {ref.indicator_id} version {ref.version} of yours"
        issues.append(_issue(UNKNOWN_INDICATOR, message, node.id, param="indicator"))
    return issues


def _code_nodes(
    graph: StrategyGraph, found: Mapping[tuple[str, int], IndicatorVersion]
) -> dict[str, IndicatorVersion]:
    """Node id → the Python indicator version it names."""
    nodes = {}
    for node in graph.nodes:
        if node.type == NODE_TYPE and node.indicator is not None:
            version = found[(node.indicator.indicator_id, node.indicator.version)]
            if version.kind == "code":
                nodes[node.id] = version
    return nodes


def _kept(node: GraphNode, version: IndicatorVersion) -> GraphNode:
    """A Python indicator's node as saved: its source and parameters copied in."""
    assert node.indicator is not None
    indicator = node.indicator.model_copy(update={"code": version.code, "params": dict(version.params)})
    return node.model_copy(update={"indicator": indicator})


def _outputs(inner: StrategyGraph) -> dict[str, GraphEdge]:
    """Output name → the edge feeding that ``sink.output`` (its ``value`` port)."""
    sinks = {node.id for node in inner.nodes if node.type == OUTPUT}
    return {edge.target: edge for edge in inner.edges if edge.target in sinks}


def _edge_issues(graph: StrategyGraph, outputs: Mapping[str, Collection[str]]) -> list[GraphIssue]:
    """Edges into a user_indicator node, and out of a port its indicator does not have."""
    issues = []
    for edge in graph.edges:
        if edge.target in outputs:
            message = "a user_indicator node has no inputs (its indicator reads the bars itself)"
            issues.append(_issue(IssueCode.UNKNOWN_PORT, message, edge.target, port=edge.target_port))
        if edge.source in outputs and edge.source_port not in outputs[edge.source]:
            names = ", ".join(sorted(outputs[edge.source])) or "none"
            message = f"the indicator has no output {edge.source_port!r} (its outputs: {names})"
            issues.append(_issue(IssueCode.UNKNOWN_PORT, message, edge.source, port=edge.source_port))
    return issues


def _copied(node_id: str, inner: StrategyGraph, taken: set[str]) -> tuple[list[GraphNode], list[GraphIssue]]:
    """The indicator's nodes but its outputs, renamed ``<node_id>.<inner id>``."""
    nodes, issues = [], []
    for inner_node in inner.nodes:
        if inner_node.type == OUTPUT:
            continue
        new_id = f"{node_id}.{inner_node.id}"
        if len(new_id) > MAX_ID or new_id in taken:
            why = "too long" if len(new_id) > MAX_ID else "already a node of the graph"
            message = f"its inlined node {new_id!r} is {why}: rename this node"
            issues.append(_issue(IssueCode.DUPLICATE_NODE, message, node_id))
        taken.add(new_id)
        nodes.append(inner_node.model_copy(update={"id": new_id, "position": None}))
    return nodes, issues


def _rewired(edge: GraphEdge, outputs: Mapping[str, Mapping[str, GraphEdge]]) -> GraphEdge:
    if edge.source not in outputs:
        return edge
    feed = outputs[edge.source][edge.source_port]
    return edge.model_copy(update={"source": f"{edge.source}.{feed.source}", "source_port": feed.source_port})


def inline(graph: StrategyGraph, found: Mapping[tuple[str, int], IndicatorVersion]) -> StrategyGraph:
    """``graph`` with every ``user_indicator`` node replaced by its indicator's nodes, or
    ``GraphRefused`` naming each bad node and port (``found``: the caller's versions by reference)."""
    issues = [issue for node in graph.nodes for issue in _node_issues(node, found)]
    if issues:
        raise GraphRefused(tuple(issues))
    coded = _code_nodes(graph, found)
    if len(coded) > MAX_CODE_NODES:
        message = f"a graph has at most {MAX_CODE_NODES} Python indicator nodes (each runs in the sandbox)"
        raise GraphRefused(
            tuple(_issue(IssueCode.PARAM_INVALID, message, n, param="indicator") for n in coded)
        )
    inners = {
        node.id: StrategyGraph.model_validate(
            found[(node.indicator.indicator_id, node.indicator.version)].graph
        )
        for node in graph.nodes
        if node.type == NODE_TYPE and node.indicator is not None and node.id not in coded
    }
    if not inners and not coded:
        return graph
    outputs = {node_id: _outputs(inner) for node_id, inner in inners.items()}
    issues = _edge_issues(graph, {**outputs, **{node_id: v.outputs for node_id, v in coded.items()}})
    nodes = [
        _kept(node, coded[node.id]) if node.id in coded else node
        for node in graph.nodes
        if node.id not in inners
    ]
    taken = {node.id for node in nodes}
    edges: list[GraphEdge] = []
    for node_id, inner in inners.items():
        copied, clashes = _copied(node_id, inner, taken)
        nodes += copied
        issues += clashes
        prefix = f"{node_id}."
        edges += [
            edge.model_copy(update={"source": prefix + edge.source, "target": prefix + edge.target})
            for edge in inner.edges
            if edge.target not in outputs[node_id]
        ]
    if issues:
        raise GraphRefused(tuple(issues))
    edges += [_rewired(edge, outputs) for edge in graph.edges]
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        message = (
            f"inlined, the graph has {len(nodes)} nodes and {len(edges)} edges: "
            f"at most {MAX_NODES} and {MAX_EDGES}"
        )
        issues += [_issue(IssueCode.PARAM_INVALID, message, node_id, param="indicator") for node_id in inners]
    if issues:
        raise GraphRefused(tuple(issues))
    return StrategyGraph(nodes=nodes, edges=edges)
