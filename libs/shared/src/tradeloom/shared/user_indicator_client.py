"""Runs a Python user indicator in sandbox-executor (``tradeloom.shared.user_indicator_code``'s
protocol), as its owner, so their quotas and audit apply: one execution over all the bars given.

What the code did wrong (an exception, the time or memory limit, no quota left, an unusable
answer) is ``IndicatorCodeFailed`` with the user's ``line`` where one is known (the same bars would
fail the same way); the sandbox not answering, busy or not ready is ``Unavailable`` (try again).
``graph_indicator_outputs`` runs the Python indicator nodes a saved strategy graph keeps (their
source copied in by strategy-runner), for backtests and bots alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tradeloom.shared.contracts.strategy_graph import GraphIndicatorRef, StrategyGraph
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import SandboxLimits, UserCodeFailed, error_line
from tradeloom.shared.user_code_client import SandboxUserFault, execute_user_program
from tradeloom.shared.user_indicator_code import IndicatorFailed, checked_outputs, indicator_program

NODE_TYPE = "user_indicator"


class IndicatorCodeFailed(UserCodeFailed):
    """The indicator's code could not give its outputs; ``line``: the user's line, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.reason = message


async def sandbox_outputs(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient,
    user_id: str,
    code: str,
    params: Mapping[str, Any],
    columns: Mapping[str, Sequence[float] | Sequence[int]],
    limits: SandboxLimits,
) -> dict[str, list[float | None]]:
    """Each output of the user's ``compute`` per bar of ``columns`` (oldest first; None: no value)."""
    count = len(columns["close"])
    try:
        reply = await execute_user_program(
            client, user_id, indicator_program(code), params, columns, limits, what="the indicator"
        )
    except SandboxUserFault as fault:
        raise IndicatorCodeFailed(f"the indicator's code: {fault.code}: {fault.detail}", fault.line) from None
    if not reply.success and reply.error is not None:
        line = error_line(reply.error.traceback, code)
        raise IndicatorCodeFailed(f"compute raised {reply.error.type}: {reply.error.message}", line)
    if reply.result_error is not None or reply.result is None:
        raise IndicatorCodeFailed(f"compute gave no outputs: {reply.result_error or 'no result'}")
    try:
        return checked_outputs(count, reply.result)
    except IndicatorFailed as error:
        raise IndicatorCodeFailed(str(error)) from None


def python_indicator_nodes(graph: StrategyGraph) -> dict[str, GraphIndicatorRef]:
    """Node id → the Python indicator, with its copied source, of each ``user_indicator`` node a
    saved graph keeps (a builder-graph indicator is inlined when saved)."""
    return {
        node.id: node.indicator
        for node in graph.nodes
        if node.type == NODE_TYPE and node.indicator is not None and node.indicator.code is not None
    }


async def graph_indicator_outputs(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient,
    user_id: str,
    graph: StrategyGraph,
    wanted: Mapping[str, Sequence[str]],
    columns: Mapping[str, Sequence[float] | Sequence[int]],
    limits: SandboxLimits,
) -> dict[str, dict[str, list[float | None]]]:
    """For each node of ``wanted`` (node id → the outputs the graph reads), its Python indicator's
    outputs over ``columns``: one sandbox execution per node. ``UserCodeFailed`` names the node
    (and the user's line), also for an output the code did not give; ``Unavailable`` as above."""
    nodes = python_indicator_nodes(graph)
    series: dict[str, dict[str, list[float | None]]] = {}
    for node, names in wanted.items():
        ref = nodes.get(node)
        if ref is None or ref.code is None:
            raise UserCodeFailed(f"node {node}: no indicator source in the graph (save the graph first)")
        try:
            found = await sandbox_outputs(client, user_id, ref.code, ref.params or {}, columns, limits)
        except IndicatorCodeFailed as error:
            raise UserCodeFailed(f"node {node}: {error}") from None
        for name in names:
            if name not in found:
                given = ", ".join(sorted(found)) or "none"
                raise UserCodeFailed(
                    f"node {node}: the indicator gave no output {name!r} (its outputs: {given})"
                )
        series[node] = {name: found[name] for name in names}
    return series
