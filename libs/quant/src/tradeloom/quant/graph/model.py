"""A builder graph as plain data: nodes with a type and parameters, edges between named ports.

Pure data (no pydantic: ``tradeloom.quant`` depends on numpy and numba only); the services build it
from their wire contract. Every problem found in a graph is a ``GraphIssue`` naming the node and,
where one is at fault, its port or parameter, so an editor can point at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ParamInput = int | float | bool


@dataclass(frozen=True)
class Node:
    """``outputs``: only for an external node (type ``user_indicator``), the names of the number
    series it gives (empty: the ports its edges read); they are computed outside the graph and
    handed to ``CompiledGraph.signals``."""

    id: str
    type: str
    params: Mapping[str, ParamInput] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """``source``'s output ``source_port`` feeds ``target``'s input ``target_port``."""

    source: str
    source_port: str
    target: str
    target_port: str


@dataclass(frozen=True)
class Graph:
    nodes: Sequence[Node]
    edges: Sequence[Edge]


@dataclass(frozen=True)
class GraphIssue:
    """One error: ``code`` is stable (see ``IssueCode``), ``node``/``port``/``param`` locate it."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    param: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "message": self.message,
            "node": self.node,
            "port": self.port,
            "param": self.param,
        }


class IssueCode:
    UNKNOWN_NODE_TYPE = "unknown_node_type"
    DUPLICATE_NODE = "duplicate_node"
    UNKNOWN_NODE = "unknown_node"  # an edge names a node the graph does not have
    UNKNOWN_PORT = "unknown_port"
    WRONG_PORT_TYPE = "wrong_port_type"
    DUPLICATE_INPUT = "duplicate_input"  # two edges into one input port
    MISSING_INPUT = "missing_input"
    CYCLE = "cycle"
    UNREACHABLE_SINK = "unreachable_sink"  # no market input (open, close…) reaches it
    DUPLICATE_SINK = "duplicate_sink"
    NO_ENTRY = "no_entry"  # the graph never enters a position
    PARAM_INVALID = "param_invalid"  # out of range, wrong type, unknown parameter
    POSITION_FEEDBACK = "position_feedback"  # state.position feeds a node that looks back in time
    WRONG_GRAPH_KIND = "wrong_graph_kind"  # a strategy's node in an indicator graph (or the reverse)
    NO_OUTPUT = "no_output"  # an indicator graph without a sink.output


class GraphInvalid(ValueError):
    """A graph that cannot be compiled; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[GraphIssue]) -> None:
        first = issues[0]
        where = ".".join(part for part in (first.node, first.port or first.param) if part)
        super().__init__(f"graph: {where + ': ' if where else ''}{first.message}")
        self.issues = tuple(issues)
