"""``/v1/schedules``: the caller's cron and interval schedules and their runs, each route one
``svc.strategy-runner.schedules_<op>``.

A schedule submits a backtest, starts/stops one of the caller's bots, imports market data (admins)
or stores a performance report when it fires. Writes take
scope ``trade`` (a schedule can start a bot that sends orders); reads take ``read``. Another
user's schedule answers 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.schedules import (
    SERVICE,
    ScheduleCreate,
    ScheduleDeleted,
    ScheduleEnable,
    ScheduleInfo,
    ScheduleList,
    ScheduleListRequest,
    ScheduleRef,
    ScheduleRunList,
    ScheduleRunsRequest,
)

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
READ, TRADE = Scope.READ, Scope.TRADE
SCHEDULE_ID = id_param("schedule_id", "a schedule id")


class Enabled(BaseModel):
    """The body of ``POST /v1/schedules/{schedule_id}/enabled`` (the id is in the path)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool


ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "schedules_create", ScheduleCreate, ScheduleInfo,
        name="create_schedule", status=201, body=ScheduleCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Create a cron (time-zone aware) or interval schedule: a backtest, a bot start/stop, "
        "a market-data import or a performance report",
        description="Scope `trade`; takes `Idempotency-Key`. A bad cron expression or time zone → 422 "
        "naming it; an unknown (or another user's) bot → 404 naming `action.bot_id`, account or bot of "
        "a report → 404 naming `action.report.id`; a `market_import` by a non-admin → 403.",
    ),
    Forward(
        "GET", "", READ, SERVICE, "schedules_list", ScheduleListRequest, ScheduleList,
        name="list_schedules", page=True, cursor="schedule_list", errors=READ_ERRORS,
        summary="The caller's schedules, newest first",
    ),
    Forward(
        "GET", "/{schedule_id}", READ, SERVICE, "schedules_get", ScheduleRef, ScheduleInfo,
        name="get_schedule", path_params=(SCHEDULE_ID,), errors=READ_ERRORS,
        summary="One schedule with its next firing",
    ),
    Forward(
        "POST", "/{schedule_id}/enabled", TRADE, SERVICE, "schedules_enable", ScheduleEnable, ScheduleInfo,
        name="enable_schedule", path_params=(SCHEDULE_ID,), body=Enabled, errors=WRITE_ERRORS,
        summary="Enable (firing from now on) or disable a schedule",
    ),
    Forward(
        "DELETE", "/{schedule_id}", TRADE, SERVICE, "schedules_delete", ScheduleRef, ScheduleDeleted,
        name="delete_schedule", path_params=(SCHEDULE_ID,), errors=WRITE_ERRORS,
        summary="Delete a schedule and its run history",
    ),
    Forward(
        "GET", "/{schedule_id}/runs", READ, SERVICE, "schedules_runs", ScheduleRunsRequest, ScheduleRunList,
        name="list_schedule_runs", path_params=(SCHEDULE_ID,), page=True,
        cursor="schedule_runs:{schedule_id}", errors=READ_ERRORS,
        summary="A schedule's runs, newest first: outcome, detail, the backtest it queued",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
