"""User-indicator operations: create, list, get, delete, versions add/get, validate.

Thin: the source is parsed (never run: ``domain/user_indicator.py``) or the graph compiled
(``domain/graph.py``), one store call, the reply.
An unknown id and another user's id get the same not_found, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.contracts.user_indicators import (
    UserIndicatorCreate,
    UserIndicatorDeleted,
    UserIndicatorInfo,
    UserIndicatorList,
    UserIndicatorListRequest,
    UserIndicatorRef,
    UserIndicatorValidate,
    UserIndicatorValidation,
    UserIndicatorVersionAdd,
    UserIndicatorVersionInfo,
    UserIndicatorVersionRef,
)
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor
from tradeloom.shared.user_indicator_code import MAX_OUTPUTS
from tradeloom.strategy_runner.domain.graph import GraphRefused, compiled_indicator
from tradeloom.strategy_runner.domain.user_code import CodeRefused, check_code_params
from tradeloom.strategy_runner.domain.user_indicator import check_indicator_code
from tradeloom.strategy_runner.graph_errors import graph_refused
from tradeloom.strategy_runner.store.user_indicators_store import Content, UserIndicatorsStore


def no_indicator(indicator_id: str) -> NotFound:
    """The one answer for an unknown indicator and for another user's."""
    return NotFound(f"no user indicator {indicator_id}", details={"indicator_id": indicator_id})


def indicator_info(row: Row[Any]) -> UserIndicatorInfo:
    return UserIndicatorInfo(
        indicator_id=str(row.id), name=row.name, kind=row.kind, description=row.description,
        latest_version=row.latest_version, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def version_info(row: Row[Any]) -> UserIndicatorVersionInfo:
    return UserIndicatorVersionInfo(
        indicator_id=str(row.indicator_id), version=row.version, kind=row.kind, code=row.code,
        graph=row.graph, params=row.params, note=row.note, created_at=row.created_at,
    )  # fmt: skip


def checked_source(code: str) -> None:
    """A 422 on ``code`` naming the line and column (``details.line``, ``details.column``)."""
    try:
        check_indicator_code(code)
    except CodeRefused as error:
        raise field_invalid("code", str(error), line=error.line, column=error.column) from None


def checked_params(params: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(check_code_params(params))
    except CodeRefused as error:
        field, _, message = error.message.partition(": ")
        raise field_invalid(field, message) from None


def checked_content(
    kind: str, code: str | None, graph: StrategyGraph | None, params: dict[str, Any]
) -> Content:
    """A version's content per kind: code parsed (never run), a graph compiled (every issue named)."""
    if kind == "graph":
        if code is not None:
            raise field_invalid("code", "only for kind code")
        if params:
            raise field_invalid("params", "a graph indicator keeps its parameters in its nodes: leave out")
        if graph is None:
            raise field_invalid("graph", "required for kind graph")
        try:
            outputs = compiled_indicator(graph).outputs
        except GraphRefused as error:
            raise graph_refused(error) from None
        if len(outputs) > MAX_OUTPUTS:
            raise field_invalid("graph", f"{len(outputs)} sink.output nodes; at most {MAX_OUTPUTS}")
        return Content("graph", None, graph.model_dump(mode="json", exclude_none=True), {})
    if graph is not None:
        raise field_invalid("graph", "only for kind graph")
    if code is None:
        raise field_invalid("code", "required for kind code")
    checked_source(code)
    return Content("code", code, None, checked_params(params))


class UserIndicatorsApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, max_versions: int) -> None:
        self._engine = engine
        self.store = UserIndicatorsStore(schema)
        self.max_versions = max_versions

    async def create(self, caller: CallerContext, body: UserIndicatorCreate) -> UserIndicatorInfo:
        user_id = require_user(caller)
        content = checked_content(body.kind, body.code, body.graph, body.params)
        async with self._engine().begin() as conn:
            row = await self.store.create(conn, new_event_id(), user_id, body.name, body.description, content)
        if row is None:
            raise Conflict(
                f"you already have an indicator named {body.name!r}",
                details={"fields": [{"field": "name", "message": "already used"}], "name": body.name},
            )
        return indicator_info(row)

    async def list(self, caller: CallerContext, body: UserIndicatorListRequest) -> UserIndicatorList:
        user_id = require_user(caller)
        before = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.store.page(conn, user_id, limit=fetch_size(body.limit), before=before)
        items, next_cursor = page_of(rows, body.limit, indicator_info, lambda i: i.indicator_id)
        return UserIndicatorList(items=items, next_cursor=next_cursor)

    async def get(self, caller: CallerContext, body: UserIndicatorRef) -> UserIndicatorInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, body.indicator_id, user_id)
        if row is None:
            raise no_indicator(body.indicator_id)
        return indicator_info(row)

    async def delete(self, caller: CallerContext, body: UserIndicatorRef) -> UserIndicatorDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, body.indicator_id, user_id):
                raise no_indicator(body.indicator_id)
        return UserIndicatorDeleted(indicator_id=body.indicator_id, deleted=True)

    async def add_version(
        self, caller: CallerContext, body: UserIndicatorVersionAdd
    ) -> UserIndicatorVersionInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            current = await self.store.get(conn, body.indicator_id, user_id)
        if current is None:
            raise no_indicator(body.indicator_id)
        content = checked_content(current.kind, body.code, body.graph, body.params)  # a kind never changes
        async with self._engine().begin() as conn:
            row = await self.store.add_version(
                conn, body.indicator_id, user_id, content, body.note, self.max_versions
            )
            if row is None and await self.store.get(conn, body.indicator_id, user_id) is not None:
                raise Conflict(
                    f"indicator {body.indicator_id} has reached its limit of {self.max_versions} versions",
                    details={"indicator_id": body.indicator_id, "max_versions": self.max_versions},
                )
        if row is None:
            raise no_indicator(body.indicator_id)
        return version_info(row)

    async def get_version(
        self, caller: CallerContext, body: UserIndicatorVersionRef
    ) -> UserIndicatorVersionInfo:
        return version_info(await self.version_row(caller, body.indicator_id, body.version))

    async def version_row(self, caller: CallerContext, indicator_id: str, version: int | None) -> Row[Any]:
        """One version of the caller's indicator (``None``: the latest), or not_found."""
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.version(conn, indicator_id, user_id, version)
            if row is None and await self.store.get(conn, indicator_id, user_id) is not None:
                raise NotFound(
                    f"user indicator {indicator_id} has no version {version}",
                    details={"indicator_id": indicator_id, "version": version},
                )
        if row is None:
            raise no_indicator(indicator_id)
        return row

    async def validate(self, caller: CallerContext, body: UserIndicatorValidate) -> UserIndicatorValidation:
        require_user(caller)
        content = checked_content(body.kind, body.code, body.graph, {})
        if body.graph is None or content.graph is None:
            return UserIndicatorValidation(valid=True)
        return UserIndicatorValidation(valid=True, outputs=sorted(compiled_indicator(body.graph).outputs))
