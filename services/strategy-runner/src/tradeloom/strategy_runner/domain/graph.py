"""Builder graphs of strategies: the wire model checked and compiled by ``tradeloom.quant.graph``.

Pure: no NATS, SQL or HTTP. A graph is saved only if it compiles, so a saved version always
backtests; the problems of one that does not are returned all at once, each naming its node and
port (or parameter).
"""

from __future__ import annotations

from tradeloom.quant.graph import NODE_TYPES, CompiledGraph, Edge, Graph, GraphInvalid, GraphIssue, Node
from tradeloom.quant.graph import compile_graph as quant_compile
from tradeloom.shared.contracts.strategy_graph import (
    GraphNodeCatalog,
    GraphNodeType,
    GraphValidation,
    StrategyGraph,
)


class GraphRefused(ValueError):
    """A graph that does not compile; ``issues`` names every problem."""

    def __init__(self, issues: tuple[GraphIssue, ...]) -> None:
        super().__init__(issues[0].message)
        self.issues = issues


def to_quant(graph: StrategyGraph) -> Graph:
    return Graph(
        tuple(Node(node.id, node.type, dict(node.params)) for node in graph.nodes),
        tuple(Edge(e.source, e.source_port, e.target, e.target_port) for e in graph.edges),
    )


def compiled(graph: StrategyGraph) -> CompiledGraph:
    try:
        return quant_compile(to_quant(graph))
    except GraphInvalid as error:
        raise GraphRefused(error.issues) from None


def validation(graph: StrategyGraph) -> GraphValidation:
    plan = compiled(graph)
    sinks = sorted({node.type for node in graph.nodes if node.type.startswith("sink.")})
    return GraphValidation(evaluated_nodes=len(plan.steps), sinks=sinks)


def node_catalog() -> GraphNodeCatalog:
    return GraphNodeCatalog(
        items=[GraphNodeType.model_validate(spec.as_dict()) for spec in NODE_TYPES.values()]
    )


LIVE_UNSUPPORTED = ("sink.stop_loss", "sink.take_profit", "sink.trailing_stop", "sink.position_size")


def not_live(graph: StrategyGraph) -> str | None:
    """Why a bot cannot run ``graph`` (a setting sink a live bot does not apply yet), or ``None``."""
    found = sorted({node.type for node in graph.nodes if node.type in LIVE_UNSUPPORTED})
    if not found:
        return None
    return (
        f"a bot does not apply {', '.join(found)} yet (its sizing and max_position do): use a graph without"
    )
