"""Builder-graph operations and copies: validate a graph, the node catalog, duplicate a strategy.

Thin, like ``api_strategies``: the graph is checked by ``domain.graph``; an invalid one is one
``validation_error`` whose ``details.issues`` lists every problem with its node and port (or
parameter), and whose ``details.fields`` names ``graph.nodes.<node id>.<port or parameter>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.strategy import BUILDER_REQUESTS, StrategyDuplicate, StrategyInfo
from tradeloom.shared.contracts.strategy_graph import (
    GraphNodeCatalog,
    GraphNodesRequest,
    GraphValidateRequest,
    GraphValidation,
)
from tradeloom.shared.errors import Conflict, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.api_strategies import StrategiesApi, no_strategy, strategy_info
from tradeloom.strategy_runner.domain.graph import GraphRefused, node_catalog, validation
from tradeloom.strategy_runner.graph_errors import graph_refused


class BuilderApi:
    def __init__(self, engine: Callable[[], AsyncEngine], strategies: StrategiesApi) -> None:
        self._engine = engine
        self.strategies = strategies

    async def validate(self, caller: CallerContext, body: GraphValidateRequest) -> GraphValidation:
        """Answers without saving (nothing is written; the caller's user indicators are read)."""
        user_id = require_user(caller)
        graph = await self.strategies.graph_indicators.inlined(user_id, body.graph)
        try:
            return validation(graph)
        except GraphRefused as error:
            raise graph_refused(error) from None

    async def nodes(self, caller: CallerContext, body: GraphNodesRequest) -> GraphNodeCatalog:
        del caller, body
        return node_catalog()

    async def duplicate(self, caller: CallerContext, body: StrategyDuplicate) -> StrategyInfo:
        """A new strategy of the caller whose version 1 is the given version (default latest)."""
        user_id = require_user(caller)
        store = self.strategies.store
        async with self._engine().begin() as conn:
            source = await store.get(conn, body.strategy_id, user_id)
            version = await store.version(conn, body.strategy_id, user_id, body.version)
            if source is None or version is None:
                raise no_strategy(body.strategy_id)
            row = await store.create(
                conn,
                strategy_id=new_event_id(),
                user_id=user_id,
                name=body.name,
                template=source.template,
                description=source.description if body.description is None else body.description,
                params=version.params,
                kind=source.kind,
                graph=version.graph,
                code=version.code,
            )
        if row is None:
            raise Conflict(
                f"you already have a strategy named {body.name!r}",
                details={"fields": [{"field": "name", "message": "already used"}], "name": body.name},
            )
        return strategy_info(row)


def register(runtime: ServiceRuntime, api: BuilderApi) -> None:
    """Every operation of ``contracts.strategy.BUILDER_REQUESTS``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "strategies_validate": api.validate,
        "strategies_duplicate": api.duplicate,
        "strategy_graph_nodes": api.nodes,
    }
    for contract in BUILDER_REQUESTS:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
