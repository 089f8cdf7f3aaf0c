"""A backtest of a builder graph: the graph compiled by ``tradeloom.quant.graph``, its setting sinks
folded into the simulator's configuration.

Pure: no NATS, SQL or HTTP. A graph that does not compile is a ``GraphPlanError`` on field
``graph`` listing every issue (node and port or parameter); a setting the graph makes (stop-loss,
take-profit, trailing stop, position size) may not also come with the request.
"""

from __future__ import annotations

import math

from tradeloom.backtest_engine.domain.run_plan_errors import PlanError
from tradeloom.quant.fills import SizingMode
from tradeloom.quant.graph import CompiledGraph, Edge, Graph, GraphInvalid, GraphIssue, Node, compile_graph
from tradeloom.quant.simulator import SimulationConfig
from tradeloom.shared.contracts.backtest import BacktestSizing, SubmitBacktest
from tradeloom.shared.contracts.strategy_graph import StrategyGraph

GRAPH_STRATEGY = "graph"  # the run's ``strategy`` when it ran a graph


class GraphPlanError(PlanError):
    """An invalid graph; ``issues`` lists every problem (the first one is the message)."""

    def __init__(self, issues: tuple[GraphIssue, ...]) -> None:
        first = issues[0]
        where = ".".join(part for part in ("graph.nodes", first.node, first.port or first.param) if part)
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(where, first.message + more)
        self.issues = issues


def compiled_graph(graph: StrategyGraph) -> CompiledGraph:
    quant = Graph(
        tuple(Node(node.id, node.type, dict(node.params)) for node in graph.nodes),
        tuple(Edge(e.source, e.source_port, e.target, e.target_port) for e in graph.edges),
    )
    try:
        return compile_graph(quant)
    except GraphInvalid as error:
        raise GraphPlanError(error.issues) from None


def _own(request: SubmitBacktest, field: str, value: float, current: float) -> float:
    """The graph's setting ``value`` (NaN: none, keep ``current``); refused when the request sets it too."""
    if math.isnan(value):
        return current
    if getattr(request, field) is not None:
        raise PlanError(field, f"the graph sets it (sink.{field}): leave it out of the request")
    return value


def with_graph_settings(
    request: SubmitBacktest, graph: CompiledGraph, config: SimulationConfig
) -> SimulationConfig:
    """``config`` with what the graph's setting sinks say."""
    settings = graph.settings
    config = config._replace(
        stop_loss=_own(request, "stop_loss", settings.stop_loss, config.stop_loss),
        take_profit=_own(request, "take_profit", settings.take_profit, config.take_profit),
        trailing_stop=_own(request, "trailing_stop", settings.trailing_stop, config.trailing_stop),
    )
    if math.isnan(settings.position_size):
        return config
    if request.sizing != BacktestSizing():
        raise PlanError("sizing", "the graph sets the position size (sink.position_size): leave sizing out")
    return config._replace(sizing_mode=int(SizingMode.PERCENT_EQUITY), sizing_value=settings.position_size)
