"""Saved-strategy operations: create, list, get, delete, and versions add/list/get.

Thin: check the caller and the template (domain), run one store call, shape the reply. Every
strategy belongs to the caller (``tl-user-id``); an unknown id and another user's id get the same
not_found answer, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.strategy import (
    StrategyCreate,
    StrategyDeleted,
    StrategyInfo,
    StrategyList,
    StrategyListRequest,
    StrategyRef,
    StrategyVersionAdd,
    StrategyVersionInfo,
    StrategyVersionList,
    StrategyVersionRef,
)
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor
from tradeloom.strategy_runner.catalogs.graph_indicators import GraphIndicators
from tradeloom.strategy_runner.catalogs.user_indicator_runs import UserIndicatorRuns
from tradeloom.strategy_runner.domain.graph import GraphRefused, compiled
from tradeloom.strategy_runner.domain.templates import TemplateError, checked_params
from tradeloom.strategy_runner.domain.user_code import CodeRefused, check_code, check_code_params
from tradeloom.strategy_runner.graph_errors import graph_refused
from tradeloom.strategy_runner.store.strategies_store import StrategiesStore


def no_strategy(strategy_id: str) -> NotFound:
    """The one answer for an unknown strategy and for another user's."""
    return NotFound(f"no strategy {strategy_id}", details={"strategy_id": strategy_id})


def strategy_info(row: Row[Any]) -> StrategyInfo:
    return StrategyInfo(
        strategy_id=str(row.id),
        name=row.name,
        kind=row.kind,
        template=row.template,
        description=row.description,
        latest_version=row.latest_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def version_info(row: Row[Any], *, with_code: bool = True) -> StrategyVersionInfo:
    """``with_code=False`` (a list of versions) leaves a code version's source out: 200 versions of
    64 KiB would not fit one reply; ``strategy_versions_get`` answers it."""
    return StrategyVersionInfo(
        strategy_id=str(row.strategy_id),
        version=row.version,
        kind=row.kind,
        template=row.template,
        params=row.params,
        graph=row.graph,
        code=row.code if with_code else None,
        note=row.note,
        created_at=row.created_at,
    )


GRAPH_TEMPLATE = "graph"  # the ``template`` of a graph strategy
CODE_TEMPLATE = "code"  # the ``template`` of a user-code strategy


def checked_graph(graph: StrategyGraph | None, params: dict[str, Any]) -> dict[str, Any]:
    """A graph version's content (the graph as JSON), compiled first so only a runnable one is saved."""
    if params:
        raise field_invalid("params", "a graph strategy keeps its parameters in its nodes: leave params out")
    if graph is None:
        raise field_invalid("graph", "required for a strategy of kind graph")
    try:
        compiled(graph)
    except GraphRefused as error:
        raise graph_refused(error) from None
    return graph.model_dump(mode="json", exclude_none=True)


def checked_code(code: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """A code version's parameters, after its source parsed (never run) with ``generate_signals``.

    Bad source is a 422 on ``code`` whose message and ``details`` name the line and column."""
    if code is None:
        raise field_invalid("code", "required for a strategy of kind code")
    try:
        check_code(code)
    except CodeRefused as error:
        raise field_invalid("code", str(error), line=error.line, column=error.column) from None
    try:
        return dict(check_code_params(params))
    except CodeRefused as error:
        field, _, message = error.message.partition(": ")
        raise field_invalid(field, message) from None


def checked_content(body: StrategyCreate) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(template, params, graph) of a new strategy, per its kind (kind code: its source is
    ``body.code``, checked here)."""
    if body.kind != "code" and body.code is not None:
        raise field_invalid("code", "only for kind code")
    if body.kind == "code":
        for field in ("template", "graph"):
            if getattr(body, field) is not None:
                raise field_invalid(field, "a code strategy has none: leave it out")
        return CODE_TEMPLATE, checked_code(body.code, body.params), None
    if body.kind == "graph":
        if body.template is not None:
            raise field_invalid("template", "a graph strategy has no template: leave it out")
        return GRAPH_TEMPLATE, {}, checked_graph(body.graph, body.params)
    if body.graph is not None:
        raise field_invalid("graph", "only for kind graph")
    if body.template is None:
        raise field_invalid("template", "required for kind template (or give kind graph and a graph)")
    try:
        return body.template, dict(checked_params(body.template, body.params)), None
    except TemplateError as error:
        raise field_invalid(error.field, error.message) from None


class StrategiesApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], schema: str, max_versions: int, runs: UserIndicatorRuns
    ) -> None:
        self._engine = engine
        self.store = StrategiesStore(schema)
        self.max_versions = max_versions
        self.graph_indicators = GraphIndicators(engine, schema, runs)

    async def create(self, caller: CallerContext, body: StrategyCreate) -> StrategyInfo:
        user_id = require_user(caller)
        if body.kind == "graph":  # user_indicator nodes inlined: what is saved compiles alone
            body = body.model_copy(update={"graph": await self.graph_indicators.checked(user_id, body.graph)})
        template, params, graph = checked_content(body)
        async with self._engine().begin() as conn:
            row = await self.store.create(
                conn,
                strategy_id=new_event_id(),
                user_id=user_id,
                name=body.name,
                template=template,
                description=body.description,
                params=params,
                kind=body.kind,
                graph=graph,
                code=body.code,
            )
        if row is None:
            raise Conflict(
                f"you already have a strategy named {body.name!r}",
                details={"fields": [{"field": "name", "message": "already used"}], "name": body.name},
            )
        return strategy_info(row)

    async def list(self, caller: CallerContext, body: StrategyListRequest) -> StrategyList:
        """Newest first; ``next_cursor`` is the last id of the page when there is more."""
        user_id = require_user(caller)
        before = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.store.page(
                conn,
                user_id,
                limit=fetch_size(body.limit),
                before=before,
                kind=body.kind,
                template=body.template,
                name=body.name,
            )
        items, next_cursor = page_of(rows, body.limit, strategy_info, lambda s: s.strategy_id)
        return StrategyList(items=items, next_cursor=next_cursor)

    async def get(self, caller: CallerContext, body: StrategyRef) -> StrategyInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, body.strategy_id, user_id)
        if row is None:
            raise no_strategy(body.strategy_id)
        return strategy_info(row)

    async def delete(self, caller: CallerContext, body: StrategyRef) -> StrategyDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, body.strategy_id, user_id):
                raise no_strategy(body.strategy_id)
        return StrategyDeleted(strategy_id=body.strategy_id, deleted=True)

    async def add_version(self, caller: CallerContext, body: StrategyVersionAdd) -> StrategyVersionInfo:
        """Validate against the strategy's template, then number and store the version atomically."""
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            current = await self.store.get(conn, body.strategy_id, user_id)
        if current is None:
            raise no_strategy(body.strategy_id)
        graph = None
        if current.kind != "code" and body.code is not None:
            raise field_invalid("code", "only for a strategy of kind code")
        if current.kind == "code":
            if body.graph is not None:
                raise field_invalid("graph", "only for a strategy of kind graph")
            params: dict[str, Any] = checked_code(body.code, body.params)
        elif current.kind == "graph":
            graph = checked_graph(await self.graph_indicators.checked(user_id, body.graph), body.params)
            params = {}
        elif body.graph is not None:
            raise field_invalid("graph", "only for a strategy of kind graph")
        else:
            try:
                params = dict(checked_params(current.template, body.params))  # a template never changes
            except TemplateError as error:
                raise field_invalid(error.field, error.message) from None
        async with self._engine().begin() as conn:
            row = await self.store.add_version(
                conn,
                body.strategy_id,
                user_id,
                params=params,
                note=body.note,
                max_versions=self.max_versions,
                graph=graph,
                code=body.code,
            )
            if row is None and await self.store.get(conn, body.strategy_id, user_id) is not None:
                raise Conflict(
                    f"strategy {body.strategy_id} has reached its limit of {self.max_versions} versions: "
                    "save a new strategy instead",
                    details={"strategy_id": body.strategy_id, "max_versions": self.max_versions},
                )
        if row is None:
            raise no_strategy(body.strategy_id)  # deleted meanwhile
        return version_info(row)

    async def list_versions(self, caller: CallerContext, body: StrategyRef) -> StrategyVersionList:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.store.versions(conn, body.strategy_id, user_id)
        if not rows:  # a strategy always has version 1, so no rows means not the caller's
            raise no_strategy(body.strategy_id)
        return StrategyVersionList(
            strategy_id=str(rows[0].strategy_id), items=[version_info(row, with_code=False) for row in rows]
        )

    async def get_version(self, caller: CallerContext, body: StrategyVersionRef) -> StrategyVersionInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.version(conn, body.strategy_id, user_id, body.version)
            if row is None and await self.store.get(conn, body.strategy_id, user_id) is not None:
                raise NotFound(
                    f"strategy {body.strategy_id} has no version {body.version}",
                    details={"strategy_id": body.strategy_id, "version": body.version},
                )
        if row is None:
            raise no_strategy(body.strategy_id)
        return version_info(row)
