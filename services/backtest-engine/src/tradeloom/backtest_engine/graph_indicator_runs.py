"""A saved graph's Python user indicators, computed for a run only in sandbox-executor (never here).

Each ``user_indicator`` node the graph's sinks need (``CompiledGraph.external``) is one sandbox
execution over all the run's bars, as the run's owner, with the source and parameters strategy-runner
copied into the node when it saved the graph; the series then feed the compiled graph like any
node's (the same kernels run the rest). What the code did wrong, or an output the graph reads that
it did not give, is ``UserCodeFailed`` naming the node (and the user's line): the run fails with
``user_code_failed``. The sandbox not answering or busy is ``SandboxUnavailable``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import numpy as np

from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.quant.graph import EXTERNAL
from tradeloom.quant.simulator import Bars
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.contracts.strategy_graph import GraphIndicatorRef, StrategyGraph
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import MAX_BARS, SandboxLimits, UserCodeFailed
from tradeloom.shared.user_indicator_client import IndicatorCodeFailed, sandbox_outputs


class SandboxUnavailable(Unavailable):
    """sandbox-executor did not run an indicator now (down, busy, not ready): try the run again."""


def indicator_nodes(graph: StrategyGraph) -> dict[str, GraphIndicatorRef]:
    """Node id → the Python indicator (with its copied source) of each ``user_indicator`` node."""
    return {
        node.id: node.indicator
        for node in graph.nodes
        if node.type == EXTERNAL and node.indicator is not None and node.indicator.code is not None
    }


def _series(
    node: str, wanted: tuple[str, ...], found: Mapping[str, list[float | None]]
) -> dict[str, np.ndarray]:
    out = {}
    for name in wanted:
        if name not in found:
            names = ", ".join(sorted(found)) or "none"
            raise UserCodeFailed(f"node {node}: the indicator gave no output {name!r} (its outputs: {names})")
        out[name] = np.array([np.nan if v is None else v for v in found[name]], dtype=np.float64)
    return out


async def graph_indicator_signals(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient, user_id: str, plan: RunPlan, graph: StrategyGraph, bars: BarArrays,
    settings: BacktestEngineSettings,
) -> SignalArrays:  # fmt: skip
    """The graph's signals over ``bars`` with each Python indicator's series from one sandbox run."""
    assert plan.graph is not None
    if len(bars) > MAX_BARS:
        raise UserCodeFailed(f"a Python user indicator runs over at most {MAX_BARS} bars, not {len(bars)}")
    nodes = indicator_nodes(graph)
    columns = {
        "open": bars.open.tolist(), "high": bars.high.tolist(), "low": bars.low.tolist(),
        "close": bars.close.tolist(), "volume": bars.volume.tolist(), "time": bars.time.tolist(),
    }  # fmt: skip
    limits = SandboxLimits(settings.sandbox_time_limit_s, settings.sandbox_memory_mb)
    external: dict[str, dict[str, np.ndarray]] = {}
    for node, wanted in plan.graph.external.items():
        ref = nodes.get(node)
        if ref is None or ref.code is None:
            raise UserCodeFailed(f"node {node}: no indicator source in the graph (save the graph first)")
        try:
            found = await sandbox_outputs(client, user_id, ref.code, ref.params or {}, columns, limits)
        except IndicatorCodeFailed as error:
            raise UserCodeFailed(f"node {node}: {error}") from None
        except Unavailable as error:
            raise SandboxUnavailable(f"sandbox-executor unavailable: {error}") from error
        external[node] = _series(node, wanted, found)
    quant_bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, bars.time)
    return await asyncio.to_thread(plan.graph.signals, quant_bars, external)
