"""Request/reply operations of strategy-runner (``svc.strategy-runner.<op>``); ping is built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.strategy import REQUESTS
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.api_strategies import StrategiesApi


def register(runtime: ServiceRuntime, strategies: StrategiesApi) -> None:
    """Every operation declared in ``contracts.strategy.REQUESTS``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "strategies_create": strategies.create,
        "strategies_list": strategies.list,
        "strategies_get": strategies.get,
        "strategies_delete": strategies.delete,
        "strategy_versions_add": strategies.add_version,
        "strategy_versions_list": strategies.list_versions,
        "strategy_versions_get": strategies.get_version,
    }
    for contract in REQUESTS:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
