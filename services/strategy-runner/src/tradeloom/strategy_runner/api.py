"""Request/reply operations of strategy-runner (``svc.strategy-runner.<op>``); ping is built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts import bot_ledger as bot_ledger_contract
from tradeloom.shared.contracts import bots as bots_contract
from tradeloom.shared.contracts import catalogs as catalogs_contract
from tradeloom.shared.contracts import jobs as jobs_contract
from tradeloom.shared.contracts import schedules as schedules_contract
from tradeloom.shared.contracts import user_indicators as user_indicators_contract
from tradeloom.shared.contracts.strategy import REQUESTS
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.api_strategies import StrategiesApi
from tradeloom.strategy_runner.bots.api_bot_views import BotViewsApi
from tradeloom.strategy_runner.bots.api_bots import BotsApi
from tradeloom.strategy_runner.catalogs.api_catalogs import CatalogsApi
from tradeloom.strategy_runner.catalogs.api_user_indicators import UserIndicatorsApi
from tradeloom.strategy_runner.jobs.api_jobs import JobsApi
from tradeloom.strategy_runner.schedules.api_schedules import SchedulesApi


def register(
    runtime: ServiceRuntime,
    *,
    strategies: StrategiesApi,
    bots: BotsApi,
    views: BotViewsApi,
    catalogs: CatalogsApi,
    schedules: SchedulesApi,
    jobs: JobsApi,
    user_indicators: UserIndicatorsApi,
) -> None:
    """Every operation declared in ``contracts.strategy``, ``bots``, ``bot_ledger``, ``catalogs``,
    ``schedules`` and ``jobs``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "strategies_create": strategies.create,
        "strategies_list": strategies.list,
        "strategies_get": strategies.get,
        "strategies_delete": strategies.delete,
        "strategy_versions_add": strategies.add_version,
        "strategy_versions_list": strategies.list_versions,
        "strategy_versions_get": strategies.get_version,
        "bots_create": bots.create,
        "bots_get": bots.get,
        "bots_list": bots.list,
        "bots_start": bots.start,
        "bots_stop": bots.stop,
        "bots_pause": bots.pause,
        "bots_resume": bots.resume,
        "bots_delete": bots.delete,
        "bots_decisions": bots.decisions,
        "bots_orders": views.orders,
        "bots_trades": views.trades,
        "bots_positions": views.positions,
        "bots_performance": views.performance,
        "schedules_create": schedules.create,
        "schedules_list": schedules.list,
        "schedules_get": schedules.get,
        "schedules_enable": schedules.enable,
        "schedules_delete": schedules.delete,
        "schedules_runs": schedules.runs,
        "jobs_list": jobs.list_jobs,
        "templates_list": catalogs.templates,
        "indicators_list": catalogs.indicators,
        "indicators_compute": catalogs.compute,
        "user_indicators_create": user_indicators.create,
        "user_indicators_list": user_indicators.list,
        "user_indicators_get": user_indicators.get,
        "user_indicators_delete": user_indicators.delete,
        "user_indicators_versions_add": user_indicators.add_version,
        "user_indicators_versions_get": user_indicators.get_version,
        "user_indicators_validate": user_indicators.validate,
    }
    contracts = (
        *REQUESTS,
        *bots_contract.REQUESTS,
        *bot_ledger_contract.REQUESTS,
        *catalogs_contract.REQUESTS,
        *schedules_contract.REQUESTS,
        *jobs_contract.REQUESTS,
        *user_indicators_contract.REQUESTS,
    )
    for contract in contracts:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
