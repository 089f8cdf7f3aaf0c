"""Request/reply operations of risk-monitor (``svc.risk-monitor.<op>``); ping is built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tradeloom.risk_monitor.api_halts import HaltsApi
from tradeloom.risk_monitor.api_history import HistoryApi
from tradeloom.risk_monitor.api_limits import LimitsApi
from tradeloom.risk_monitor.api_perps import PerpsApi
from tradeloom.risk_monitor.api_positions import PositionsApi
from tradeloom.risk_monitor.api_var import VarApi
from tradeloom.risk_monitor.check import PreTradeCheck
from tradeloom.risk_monitor.flatten_results import FlattenResults
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts import orders_batch, risk, risk_monitor, risk_perps, risk_var
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    *,
    check: PreTradeCheck,
    positions: PositionsApi,
    limits: LimitsApi,
    halts: HaltsApi,
    history: HistoryApi,
    perps: PerpsApi,
    flattens: FlattenResults,
    var: VarApi,
) -> None:
    """Every operation of ``contracts.risk``, ``orders_batch.RISK_REQUESTS``, ``risk_monitor``,
    ``risk_perps`` and ``risk_var``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "check": check.check,
        "check_batch": check.check_batch,
        "positions_list": positions.list,
        "exposure": positions.exposure,
        "equity": positions.equity,
        "limits_get": limits.get,
        "limits_put": limits.put,
        "limits_delete": limits.delete,
        "eod_balances": history.eod_balances,
        "limit_changes": history.limit_changes,
        "alerts_list": limits.alerts,
        "alerts_ack": limits.ack,
        "emergency_stop": halts.stop,
        "resume": halts.resume,
        "perp_settings_list": perps.list,
        "perp_settings_put": perps.put,
        "flattens_list": flattens.list,
        "var": var.var,
        "risk_score": var.score,
    }
    contracts = (*risk.REQUESTS, *orders_batch.RISK_REQUESTS, *risk_monitor.REQUESTS, *risk_perps.REQUESTS)
    for contract in (*contracts, *risk_var.REQUESTS):
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
