"""A user-code strategy's signals for a run, computed only in sandbox-executor (never here).

The run's fetched bars go to one sandbox execution as the run's owner
(``tradeloom.shared.user_code_client``); what the user's code did wrong is ``UserCodeFailed``
(the run fails with ``user_code_failed`` and the reason, naming the line); the sandbox not
answering or busy is a ``TransientError``, so the command is redelivered and tried again.
"""

from __future__ import annotations

from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.simulation import BarArrays, code_signals
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.errors import TransientError, Unavailable
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
        raise TransientError(f"sandbox-executor unavailable: {error}") from error
    return code_signals(len(bars), found)
