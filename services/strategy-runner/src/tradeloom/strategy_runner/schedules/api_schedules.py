"""Schedule operations: create, list, get, enable/disable, delete, runs.

Every schedule belongs to the caller; an unknown id, a malformed one and another user's get the
same not_found. A bot action must name one of the caller's bots, a report one of the caller's
accounts or bots; only an admin may schedule a market-data import.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.schedules import (
    ScheduleAction,
    ScheduleCreate,
    ScheduleDeleted,
    ScheduleEnable,
    ScheduleInfo,
    ScheduleList,
    ScheduleListRequest,
    ScheduleRef,
    ScheduleRun,
    ScheduleRunList,
    ScheduleRunsRequest,
)
from tradeloom.shared.errors import NotFound, ServiceError, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.domain.schedule_times import Timing, checked_timing, next_after
from tradeloom.strategy_runner.domain.templates import TemplateError
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.schedules_store import SchedulesStore


def no_schedule(schedule_id: str) -> NotFound:
    return NotFound(f"no schedule {schedule_id}", details={"schedule_id": schedule_id})


def schedule_info(row: Row[Any]) -> ScheduleInfo:
    return ScheduleInfo(
        schedule_id=str(row.id), name=row.name, cron=row.cron, interval_s=row.interval_s,
        timezone=row.timezone, action=row.action, missed=row.missed, enabled=row.enabled,
        next_run_at=row.next_run_at, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def run_info(row: Row[Any]) -> ScheduleRun:
    return ScheduleRun(
        scheduled_for=row.scheduled_for, outcome=row.outcome, detail=row.detail, backtest_id=row.backtest_id,
        import_id=row.import_id, report=row.report, started_at=row.started_at, finished_at=row.finished_at,
    )  # fmt: skip


# The field each action kind takes; every other action field must be absent.
ACTION_FIELDS = {
    "backtest": "backtest", "bot_start": "bot_id", "bot_stop": "bot_id",
    "market_import": "market_import", "report": "report",
}  # fmt: skip


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


def check_action(caller: CallerContext, action: ScheduleAction) -> None:
    """The action carries exactly the field its kind takes (422 naming it); imports are admins'."""
    wanted = ACTION_FIELDS[action.kind]
    for name in sorted(set(ACTION_FIELDS.values())):
        given = getattr(action, name) is not None
        if name == wanted and not given:
            raise field_invalid(f"action.{name}", f"a {action.kind} action takes {name}")
        if name != wanted and given:
            raise field_invalid(f"action.{name}", f"a {action.kind} action takes no {name}")
    if action.kind == "market_import" and "admin" not in caller.roles:
        raise Forbidden("only an admin may schedule market-data imports (the data is shared)")
    report = action.report
    if report is not None and report.scope == "bot" and report.capital is None:
        raise field_invalid("action.report.capital", "a bot's report needs the capital it trades")


class SchedulesApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], schema: str
    ) -> None:
        self._engine = engine
        self._client = client
        self.store = SchedulesStore(schema)
        self.bots = BotsStore(schema)

    async def create(self, caller: CallerContext, body: ScheduleCreate) -> ScheduleInfo:
        user_id = require_user(caller)
        now = datetime.now(UTC)
        try:
            timing = checked_timing(body.cron, body.interval_s, body.timezone, now)
        except TemplateError as error:
            raise field_invalid(error.field, error.message) from None
        check_action(caller, body.action)
        report = body.action.report
        if report is not None and report.scope == "account":
            await self._check_account(caller, report.id)
        bot_id, bot_field = body.action.bot_id, "action.bot_id"
        if report is not None and report.scope == "bot":
            bot_id, bot_field = report.id, "action.report.id"
        async with self._engine().begin() as conn:
            if bot_id is not None and await self.bots.get(conn, bot_id, user_id) is None:
                raise NotFound(
                    f"no bot {bot_id}", details={"fields": [{"field": bot_field, "message": "not found"}]}
                )
            values = {
                "user_id": user_id, "name": body.name, "cron": body.cron, "interval_s": body.interval_s,
                "timezone": body.timezone, "action": body.action.model_dump(mode="json", exclude_none=True),
                "missed": body.missed, "enabled": body.enabled, "anchor": now,
                "next_run_at": next_after(timing, now) if body.enabled else None,
            }  # fmt: skip
            row = await self.store.create(conn, new_event_id(), values)
        return schedule_info(row)

    async def _check_account(self, caller: CallerContext, account_id: str) -> None:
        """A report's account must be the caller's (order-router answers not_found otherwise)."""
        try:
            await self._client().call_raw(
                "order-router", "accounts_get", {"account_id": account_id}, caller=caller
            )
        except RemoteError as error:
            if error.code != "not_found":
                raise
            raise NotFound(
                f"no account {account_id}",
                details={"fields": [{"field": "action.report.id", "message": "not found"}]},
            ) from None

    async def get(self, caller: CallerContext, body: ScheduleRef) -> ScheduleInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, body.schedule_id, user_id)
        if row is None:
            raise no_schedule(body.schedule_id)
        return schedule_info(row)

    async def list(self, caller: CallerContext, body: ScheduleListRequest) -> ScheduleList:
        user_id = require_user(caller)
        after = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.store.list_schedules(conn, user_id, fetch_size(body.limit), after)
        items, next_cursor = page_of(rows, body.limit, schedule_info, lambda s: s.schedule_id)
        return ScheduleList(items=items, next_cursor=next_cursor)

    async def enable(self, caller: CallerContext, body: ScheduleEnable) -> ScheduleInfo:
        """Enabling counts from now: firings while it was disabled are not missed ones."""
        user_id = require_user(caller)
        now = datetime.now(UTC)
        async with self._engine().begin() as conn:
            row = await self.store.get(conn, body.schedule_id, user_id, lock=True)
            if row is None:
                raise no_schedule(body.schedule_id)
            if row.enabled == body.enabled:
                return schedule_info(row)
            timing = Timing(row.cron, row.interval_s, row.timezone, now)
            upcoming = next_after(timing, now) if body.enabled else None
            row = await self.store.set_enabled(conn, row.id, body.enabled, now, upcoming)
        return schedule_info(row)

    async def delete(self, caller: CallerContext, body: ScheduleRef) -> ScheduleDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self.store.get(conn, body.schedule_id, user_id, lock=True)
            if row is None:
                raise no_schedule(body.schedule_id)
            await self.store.delete(conn, row.id)
        return ScheduleDeleted(schedule_id=body.schedule_id, deleted=True)

    async def runs(self, caller: CallerContext, body: ScheduleRunsRequest) -> ScheduleRunList:
        user_id = require_user(caller)
        before = None
        if body.cursor is not None:
            try:
                before = datetime.fromisoformat(body.cursor)
            except ValueError:
                raise field_invalid("cursor", "not a cursor this service returned") from None
            if before.tzinfo is None:
                raise field_invalid("cursor", "not a cursor this service returned")
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, body.schedule_id, user_id)
            if row is None:
                raise no_schedule(body.schedule_id)
            rows = await self.store.runs(conn, uuid.UUID(str(row.id)), fetch_size(body.limit), before)
        items, cursor = page_of(rows, body.limit, run_info, lambda run: run.scheduled_for.isoformat())
        return ScheduleRunList(schedule_id=body.schedule_id, items=items, next_cursor=cursor)
