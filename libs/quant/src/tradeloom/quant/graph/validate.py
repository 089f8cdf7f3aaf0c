"""Graph validation: every problem, each naming the node and the port (or parameter) at fault.

``check_graph`` returns the graph's nodes in an evaluation order with their validated parameters
and wiring, or raises ``GraphInvalid`` with the full list of issues (not just the first), so an
editor can mark them all at once.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from tradeloom.quant.graph.model import Edge, Graph, GraphInvalid, GraphIssue, IssueCode, Node
from tradeloom.quant.graph.node_spec import EXTERNAL, NodeSpec, external_spec
from tradeloom.quant.graph.nodes import (
    AFTER_POSITION,
    ENTRY_SINKS,
    INDICATOR_NODE_TYPES,
    NODE_TYPES,
    OUTPUT,
    POSITION,
    SIGNAL_SINKS,
)
from tradeloom.quant.strategies.schema import InvalidParameters, LotStrategySpec, ParamValue, validate_params

Wire = tuple[str, str]  # (node id, port)


@dataclass(frozen=True)
class CheckedNode:
    id: str
    spec: NodeSpec
    params: dict[str, ParamValue]
    inputs: dict[str, Wire]  # input port → (source node, source port)


def _params(node: Node, spec: NodeSpec, issues: list[GraphIssue]) -> dict[str, ParamValue]:
    """Each parameter checked on its own, so every bad one is reported."""
    known = {p.name: p for p in spec.params}
    for name in node.params:
        if name not in known:
            issues.append(
                GraphIssue(
                    IssueCode.PARAM_INVALID, f"{spec.type} has no parameter {name!r}", node.id, param=name
                )
            )
    params: dict[str, ParamValue] = {}
    for name, param in known.items():
        raw = {name: node.params[name]} if name in node.params else {}
        try:
            params.update(validate_params(LotStrategySpec(spec.type, "", (param,)), raw))
        except InvalidParameters as error:
            issues.append(GraphIssue(IssueCode.PARAM_INVALID, str(error), node.id, param=name))
    return params


def _nodes(
    graph: Graph, issues: list[GraphIssue], indicator: bool = False
) -> dict[str, tuple[NodeSpec, dict[str, ParamValue]]]:
    found: dict[str, tuple[NodeSpec, dict[str, ParamValue]]] = {}
    seen: set[str] = set()
    sinks: set[str] = set()
    for node in graph.nodes:
        if node.id in seen:
            issues.append(GraphIssue(IssueCode.DUPLICATE_NODE, f"node id {node.id!r} is used twice", node.id))
            continue
        seen.add(node.id)
        spec = (INDICATOR_NODE_TYPES if indicator else NODE_TYPES).get(node.type)
        if node.type == EXTERNAL and not indicator:  # its outputs: as given, else those read
            read = sorted({edge.source_port for edge in graph.edges if edge.source == node.id})
            spec = external_spec(node.outputs or tuple(read))
        if spec is None:
            issues.append(
                GraphIssue(IssueCode.UNKNOWN_NODE_TYPE, f"unknown node type {node.type!r}", node.id)
            )
            continue
        if indicator and (spec.category == "sink" or spec.type == POSITION) and spec.type != OUTPUT:
            message = f"an indicator graph has outputs (sink.output), not {spec.type}"
            issues.append(GraphIssue(IssueCode.WRONG_GRAPH_KIND, message, node.id))
        if spec.category == "sink" and spec.type != OUTPUT:
            if spec.type in sinks:
                issues.append(
                    GraphIssue(IssueCode.DUPLICATE_SINK, f"a graph has one {spec.type} at most", node.id)
                )
            sinks.add(spec.type)
        found[node.id] = (spec, _params(node, spec, issues))
    return found


def _edge(  # noqa: PLR0911 (one return per kind of bad edge)
    edge: Edge, known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]], seen_ids: set[str]
) -> GraphIssue | None:
    target = known.get(edge.target)
    if target is None:
        if edge.target in seen_ids:
            return None  # its own problem (unknown type) is reported already
        return GraphIssue(
            IssueCode.UNKNOWN_NODE, f"edge into {edge.target!r}: no such node", edge.target, edge.target_port
        )
    inputs = {p.name: p.kind for p in target[0].inputs}
    if edge.target_port not in inputs:
        names = ", ".join(inputs) or "none"
        return GraphIssue(
            IssueCode.UNKNOWN_PORT,
            f"{target[0].type} has no input {edge.target_port!r} (inputs: {names})",
            edge.target,
            edge.target_port,
        )
    source = known.get(edge.source)
    if source is None:
        if edge.source in seen_ids:
            return None
        return GraphIssue(
            IssueCode.UNKNOWN_NODE, f"its source {edge.source!r} is not a node", edge.target, edge.target_port
        )
    outputs = {p.name: p.kind for p in source[0].outputs}
    if edge.source_port not in outputs:
        names = ", ".join(outputs) or "none"
        return GraphIssue(
            IssueCode.UNKNOWN_PORT,
            f"{source[0].type} has no output {edge.source_port!r} (outputs: {names})",
            edge.source,
            edge.source_port,
        )
    if outputs[edge.source_port] != inputs[edge.target_port]:
        return GraphIssue(
            IssueCode.WRONG_PORT_TYPE,
            f"expects {inputs[edge.target_port]}, gets "
            f"{outputs[edge.source_port]} from {edge.source}.{edge.source_port}",
            edge.target,
            edge.target_port,
        )
    return None


def _wiring(
    graph: Graph, known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]], issues: list[GraphIssue]
) -> dict[str, dict[str, Wire]]:
    seen_ids = {node.id for node in graph.nodes}
    wiring: dict[str, dict[str, Wire]] = defaultdict(dict)
    for edge in graph.edges:
        problem = _edge(edge, known, seen_ids)
        if problem is not None:
            issues.append(problem)
        elif edge.target in known:
            if edge.target_port in wiring[edge.target]:
                issues.append(
                    GraphIssue(
                        IssueCode.DUPLICATE_INPUT, "an input takes one edge", edge.target, edge.target_port
                    )
                )
            wiring[edge.target][edge.target_port] = (edge.source, edge.source_port)
    named = {(edge.target, edge.target_port) for edge in graph.edges}  # a bad edge is reported already
    for node_id, (spec, _) in known.items():
        for port in spec.inputs:
            if (node_id, port.name) not in named:
                issues.append(
                    GraphIssue(
                        IssueCode.MISSING_INPUT,
                        f"input {port.name!r} ({port.kind}) is not connected",
                        node_id,
                        port.name,
                    )
                )
    return wiring


def _order(
    known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]],
    wiring: dict[str, dict[str, Wire]],
    issues: list[GraphIssue],
) -> list[str]:
    """Kahn's topological order; nodes left over lie on (or behind) a cycle: each node on one is named
    with the input port its cycle comes in through."""
    users: dict[str, list[str]] = defaultdict(list)
    pending = {node_id: 0 for node_id in known}
    for target, ports in wiring.items():
        for source, _ in ports.values():
            if source in known:
                users[source].append(target)
                pending[target] += 1
    ready = deque(node_id for node_id, count in pending.items() if count == 0)
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for user in users[node_id]:
            pending[user] -= 1
            if pending[user] == 0:
                ready.append(user)
    left = set(known) - set(order)
    for node_id in sorted(left):
        for port, (source, _) in sorted(wiring[node_id].items()):
            if source in left and _reaches(source, node_id, users):
                issues.append(
                    GraphIssue(IssueCode.CYCLE, f"a cycle comes back in through {source}", node_id, port)
                )
                break
    return order


def _reaches(start: str, goal: str, users: dict[str, list[str]]) -> bool:
    """Does ``goal`` feed ``start`` (so with the edge start → goal they close a cycle)?"""
    stack, seen = [goal], {goal}
    while stack:
        for user in users[stack.pop()]:
            if user == start:
                return True
            if user not in seen:
                seen.add(user)
                stack.append(user)
    return False


def _sinks(
    order: list[str],
    known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]],
    wiring: dict[str, dict[str, Wire]],
    issues: list[GraphIssue],
) -> None:
    fed: set[str] = set()
    for node_id in order:
        spec = known[node_id][0]
        sources = [source for source, _ in wiring[node_id].values()]
        # a node missing an input or reading an unknown one has its own issue: not blamed here too
        doubtful = len(sources) < len(spec.inputs) or any(source not in known for source in sources)
        if spec.market or doubtful or any(source in fed for source in sources):
            fed.add(node_id)
    types = {spec.type for spec, _ in known.values()}
    for node_id, (spec, _) in known.items():
        if spec.type in SIGNAL_SINKS and wiring[node_id] and node_id not in fed:
            issues.append(
                GraphIssue(
                    IssueCode.UNREACHABLE_SINK,
                    "no market input (open, close, an indicator…) "
                    "reaches this sink: its signal never changes",
                    node_id,
                    "when",
                )
            )
    if not types.intersection(ENTRY_SINKS):
        issues.append(GraphIssue(IssueCode.NO_ENTRY, "the graph needs a sink.enter_long or sink.enter_short"))


def after_position(
    order: list[str],
    known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]],
    wiring: dict[str, dict[str, Wire]],
) -> set[str]:
    """The nodes ``state.position`` reaches (it included)."""
    reached: set[str] = set()
    for node_id in order:
        if known[node_id][0].type == POSITION or any(s in reached for s, _ in wiring[node_id].values()):
            reached.add(node_id)
    return reached


def _position_feedback(
    order: list[str],
    known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]],
    wiring: dict[str, dict[str, Wire]],
    issues: list[GraphIssue],
) -> None:
    """The position is resolved bar by bar from the sinks, so only element-wise nodes may follow it."""
    reached = after_position(order, known, wiring)
    for node_id in order:
        spec = known[node_id][0]
        if node_id not in reached or spec.type == POSITION or spec.category in AFTER_POSITION:
            continue
        port = next(p for p, (source, _) in sorted(wiring[node_id].items()) if source in reached)
        message = (
            f"{spec.type} looks back in time, so it cannot follow state.position (math, compare, logic can)"
        )
        issues.append(GraphIssue(IssueCode.POSITION_FEEDBACK, message, node_id, port))


def _outputs(known: dict[str, tuple[NodeSpec, dict[str, ParamValue]]], issues: list[GraphIssue]) -> None:
    if not any(spec.type == OUTPUT for spec, _ in known.values()):
        issues.append(GraphIssue(IssueCode.NO_OUTPUT, "an indicator graph needs a sink.output"))


def check_graph(graph: Graph, *, indicator: bool = False) -> list[CheckedNode]:
    """The nodes in evaluation order, or ``GraphInvalid`` listing every issue. ``indicator``: a
    user indicator's graph, whose sinks are ``sink.output`` nodes (no signals, no position)."""
    issues: list[GraphIssue] = []
    known = _nodes(graph, issues, indicator)
    wiring = _wiring(graph, known, issues)
    order = _order(known, wiring, issues)
    if len(order) == len(known) and indicator:
        _outputs(known, issues)
    elif len(order) == len(known):
        _sinks(order, known, wiring, issues)
        _position_feedback(order, known, wiring, issues)
    if issues:
        raise GraphInvalid(issues)
    return [
        CheckedNode(node_id, known[node_id][0], known[node_id][1], dict(wiring[node_id])) for node_id in order
    ]


def graph_issues(graph: Graph) -> list[GraphIssue]:
    """Every issue of ``graph`` (empty: it compiles)."""
    try:
        check_graph(graph)
    except GraphInvalid as error:
        return list(error.issues)
    return []
