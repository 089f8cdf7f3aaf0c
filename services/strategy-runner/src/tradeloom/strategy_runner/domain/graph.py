"""Builder graphs of strategies: the wire model checked and compiled by ``tradeloom.quant.graph``.

Pure: no NATS, SQL or HTTP. A graph is saved only if it compiles, so a saved version always
backtests; the problems of one that does not are returned all at once, each naming its node and
port (or parameter).
"""

from __future__ import annotations

import math
from decimal import Decimal

from tradeloom.quant.graph import (
    NODE_TYPES,
    CompiledGraph,
    CompiledIndicator,
    Edge,
    Graph,
    GraphInvalid,
    GraphIssue,
    Node,
    compile_indicator,
)
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


def compiled_indicator(graph: StrategyGraph) -> CompiledIndicator:
    """A user indicator's graph (its ``sink.output`` nodes are the outputs), or ``GraphRefused``."""
    try:
        return compile_indicator(to_quant(graph))
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


def live_sizing_issue(graph: StrategyGraph, kind: str, percent: Decimal | None) -> str | None:
    """Why a bot's ``sizing`` does not match the graph's ``sink.position_size`` (a fraction of
    equity; for a long-only bot, entering flat: that share of the free quote balance), or ``None``.
    The bot's sizing must say it (``equity_pct`` with that percent), so what runs is what it shows."""
    fraction = compiled(graph).settings.position_size
    if math.isnan(fraction):
        return None
    wanted = (Decimal(repr(fraction)) * 100).normalize()
    if wanted > 100:
        return f"the graph sizes entries at {fraction} of equity (sink.position_size): a bot buys at most 1"
    if kind != "equity_pct" or percent is None or percent.normalize() != wanted:
        return (
            f"the graph sizes entries at {fraction} of equity (sink.position_size): "
            f"give {{kind: equity_pct, percent: {wanted:f}}}"
        )
    return None
