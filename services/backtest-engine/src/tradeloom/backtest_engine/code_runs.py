"""A user-code strategy's signals for a run, computed only in sandbox-executor (never here), and
the dispatch to a graph's Python indicators (``graph_indicator_runs.py``).

The run's fetched bars go to one sandbox execution as the run's owner
(``tradeloom.shared.user_code_client``); what the user's code did wrong is ``UserCodeFailed``
(the run fails with ``user_code_failed`` and the reason, naming the line); the sandbox not
answering or busy is ``SandboxUnavailable``: the command is redelivered and tried again, and its
last delivery fails the run with ``sandbox_unavailable``.
"""

from __future__ import annotations

from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.simulation import BarArrays, code_signals
from tradeloom.backtest_engine.graph_indicator_runs import SandboxUnavailable, graph_indicator_signals
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.contracts.backtest import RunCommand
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import SandboxLimits
from tradeloom.shared.user_code_client import sandbox_signals


async def user_code_signals(
    client: ServiceClient, user_id: str, plan: RunPlan, bars: BarArrays, settings: BacktestEngineSettings
) -> SignalArrays:
    assert plan.code is not None
    columns = {
        "open": bars.open.tolist(), "high": bars.high.tolist(), "low": bars.low.tolist(),
        "close": bars.close.tolist(), "volume": bars.volume.tolist(), "time": bars.time.tolist(),
    }  # fmt: skip
    limits = SandboxLimits(settings.sandbox_time_limit_s, settings.sandbox_memory_mb)
    try:
        found = await sandbox_signals(client, user_id, plan.code, plan.params, columns, limits)
    except Unavailable as error:
        raise SandboxUnavailable(f"sandbox-executor unavailable: {error}") from error
    return code_signals(len(bars), found)


async def sandboxed_signals(
    client: ServiceClient,
    command: RunCommand,
    plan: RunPlan,
    bars: BarArrays,
    settings: BacktestEngineSettings,
) -> SignalArrays | None:
    """The run's signals where the sandbox computes them (a user-code strategy; a graph with Python
    user indicators), else ``None`` (computed by the simulation step)."""
    if plan.code is not None:
        return await user_code_signals(client, command.user_id, plan, bars, settings)
    graph = command.request.graph
    if plan.graph is not None and plan.graph.external and graph is not None:
        return await graph_indicator_signals(client, command.user_id, plan, graph, bars, settings)
    return None


__all__ = ["SandboxUnavailable", "sandboxed_signals", "user_code_signals"]
