"""The builder graph on the wire: a strategy of kind ``graph`` is nodes and edges between named ports.

A node has an ``id`` (unique in the graph), a ``type`` from the node catalog
(``svc.strategy-runner.strategy_graph_nodes``: inputs such as ``input.close``, indicators such as
``indicator.sma``, ``const.number``, ``math.*``, ``compare.*``, ``cross.*``, ``window.*``,
``logic.*``, ``state.bars_since``, sinks such as ``sink.enter_long`` or ``sink.stop_loss``) and
parameters checked against the type's schema. A node of type ``user_indicator`` names one of the
caller's indicators and its version in ``indicator``; its output ports are the indicator's outputs.
strategy-runner inlines a builder-graph indicator's nodes (ids ``<node>.<inner id>``) into the
graph it validates and saves; a Python indicator's node stays, its source copied in, and its
series are computed in sandbox-executor before the compiled graph runs. An edge feeds ``source``'s output ``source_port``
into ``target``'s input ``target_port``. Structure is checked here (sizes, ids); meaning (types,
ports, cycles, reachability, parameter ranges) by strategy-runner and backtest-engine, which answer
``validation_error`` with ``details.issues``: one ``GraphIssueInfo`` per problem, naming the node
and the port or parameter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NODE_ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["fast_sma"])
PORT = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$", examples=["out"])
MAX_NODES = 200
MAX_EDGES = 500


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class GraphPosition(_Model):
    """Where an editor drew the node (kept as given, not used to compute anything)."""

    x: float = Field(ge=-1e9, le=1e9)
    y: float = Field(ge=-1e9, le=1e9)


class GraphIndicatorRef(_Model):
    """The user indicator a ``user_indicator`` node stands for: one of the caller's, at one version.
    A Python indicator's node stays in the saved graph with its source and parameters copied in
    (``code``, ``params``, set by strategy-runner when it saves: what a caller sends there is
    replaced), so the saved version runs alone."""

    indicator_id: str = Field(min_length=1, max_length=64, examples=["0190a5f2-7c1e-7b3a-9d4e-2f6a1b3c4d5e"])
    version: int = Field(ge=1, le=1_000_000)
    code: str | None = Field(
        default=None, max_length=65_536, description="a saved Python indicator's source at that version"
    )
    params: dict[str, int | float | bool] | None = Field(
        default=None, max_length=32, description="a saved Python indicator's parameters at that version"
    )


class GraphNode(_Model):
    id: str = NODE_ID
    type: str = Field(min_length=1, max_length=64, examples=["indicator.sma"])
    params: dict[str, int | float | bool] = Field(
        default_factory=dict, max_length=16, examples=[{"window": 10}]
    )
    position: GraphPosition | None = None
    indicator: GraphIndicatorRef | None = Field(
        default=None,
        description="only for type user_indicator: the caller's indicator whose outputs (a graph "
        "one's sink.output node ids, a Python one's output names) are this node's output ports; "
        "strategy-runner inlines a graph one when it saves or validates the graph, and keeps a Python "
        "one as this node (computed in the sandbox before the kernels)",
    )


class GraphEdge(_Model):
    source: str = NODE_ID
    source_port: str = Field(default="out", min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    target: str = NODE_ID
    target_port: str = PORT


class StrategyGraph(_Model):
    nodes: list[GraphNode] = Field(max_length=MAX_NODES)
    edges: list[GraphEdge] = Field(default_factory=list, max_length=MAX_EDGES)


class GraphIssueInfo(_Model):
    """One problem of a graph: ``code`` (``unknown_node_type``, ``wrong_port_type``, ``cycle``,
    ``unreachable_sink``, ``missing_input``, ``param_invalid``…), the node and its port or parameter."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    param: str | None = None


class GraphValidateRequest(_Model):
    graph: StrategyGraph


class GraphValidation(_Model):
    """A graph that compiles (an invalid one is a ``validation_error`` listing ``details.issues``)."""

    valid: Literal[True] = True
    evaluated_nodes: int = Field(ge=0, description="nodes some sink needs (the others are ignored)")
    sinks: list[str] = Field(description="the sink types of the graph")


class GraphNodesRequest(_Model):
    """No fields: the whole catalog."""


class GraphPortInfo(_Model):
    name: str
    kind: Literal["number", "bool"]


class GraphParamInfo(_Model):
    name: str
    type: Literal["int", "float", "bool"]
    default: int | float | bool
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


class GraphNodeType(_Model):
    type: str = Field(examples=["indicator.sma"])
    category: str = Field(examples=["indicator"], description="input, indicator, const, math, compare, cross, "
                          "window, logic, state or sink")  # fmt: skip
    description: str
    inputs: list[GraphPortInfo]
    outputs: list[GraphPortInfo]
    params: list[GraphParamInfo]


class GraphNodeCatalog(_Model):
    items: list[GraphNodeType]
