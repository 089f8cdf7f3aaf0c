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

import numpy as np

from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.quant.simulator import Bars
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import MAX_BARS, SandboxLimits, UserCodeFailed
from tradeloom.shared.user_indicator_client import graph_indicator_outputs


class SandboxUnavailable(Unavailable):
    """sandbox-executor did not run an indicator now (down, busy, not ready): try the run again."""


async def graph_indicator_signals(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient, user_id: str, plan: RunPlan, graph: StrategyGraph, bars: BarArrays,
    settings: BacktestEngineSettings,
) -> SignalArrays:  # fmt: skip
    """The graph's signals over ``bars`` with each Python indicator's series from one sandbox run."""
    assert plan.graph is not None
    if len(bars) > MAX_BARS:
        raise UserCodeFailed(f"a Python user indicator runs over at most {MAX_BARS} bars, not {len(bars)}")
    columns = {
        "open": bars.open.tolist(), "high": bars.high.tolist(), "low": bars.low.tolist(),
        "close": bars.close.tolist(), "volume": bars.volume.tolist(), "time": bars.time.tolist(),
    }  # fmt: skip
    limits = SandboxLimits(settings.sandbox_time_limit_s, settings.sandbox_memory_mb)
    try:
        found = await graph_indicator_outputs(client, user_id, graph, plan.graph.external, columns, limits)
    except Unavailable as error:
        raise SandboxUnavailable(f"sandbox-executor unavailable: {error}") from error
    external = {
        node: {name: np.array([np.nan if v is None else v for v in values], dtype=np.float64)
               for name, values in outputs.items()}
        for node, outputs in found.items()
    }  # fmt: skip
    quant_bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, bars.time)
    return await asyncio.to_thread(plan.graph.signals, quant_bars, external)
