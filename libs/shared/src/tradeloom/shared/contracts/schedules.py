"""Schedules of strategy-runner (``svc.strategy-runner.schedules_*``).

A schedule fires on a cron expression (5 fields, evaluated in its IANA ``timezone``, so "09:00
every weekday" follows daylight saving) or every ``interval_s`` seconds, and then runs its action
as its owner: submit a backtest (the body of ``POST /v1/backtests``), start or stop one of the
owner's bots, import (or refresh) a symbol's candles of the window before the firing from a ccxt
venue (market-data's resumable import job; admins only, as imports are), or store a performance
report (analytics' metrics and equity of one of the owner's accounts or bots over the last days). Each firing is a run, claimed in Postgres, so several replicas never run one firing
twice; its outcome (succeeded, failed with the reason, skipped) is kept. Firings missed while no
replica ran are either skipped (one ``skipped`` run records them) or run once (``missed``).

Error codes: ``validation_error`` 422 naming the field (``cron``, ``timezone``, ``action.bot_id``,
``action.backtest.<field>``, ``action.market_import.<field>``, ``action.report.<field>``…),
``unauthorized`` 401, ``forbidden`` 403 (an import schedule by a non-admin), ``not_found`` 404
(unknown or another user's schedule, bot or account).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import Positive, Signed

SERVICE = "strategy-runner"
ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000001"])
ACTION = Literal["backtest", "bot_start", "bot_stop", "market_import", "report"]
MISSED = Literal["skip", "run_once"]
OUTCOME = Literal["running", "succeeded", "failed", "skipped"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MarketImportAction(_Request):
    """Import the candles of ``[firing − lookback_s, firing)``; already stored minutes stay as they are."""

    venue: str = Field(
        min_length=1, max_length=32, examples=["binance"], description="a configured ccxt venue"
    )
    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    lookback_s: int = Field(
        ge=60, le=366 * 86_400, examples=[86_400], description="the window before the firing"
    )


class ReportAction(_Request):
    """Analytics' metrics and equity of an account or bot over the ``days`` UTC days up to the firing's."""

    scope: Literal["account", "bot"] = "account"
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$", examples=["acc-1"])
    days: int = Field(default=30, ge=1, le=3660)
    capital: Positive | None = Field(default=None, description="equity before the first fill; a bot needs it")


class ScheduleAction(_Request):
    """What a firing does: ``backtest`` takes ``backtest``; ``bot_start``/``bot_stop`` take ``bot_id``;
    ``market_import`` takes ``market_import``; ``report`` takes ``report``."""

    kind: ACTION
    bot_id: str | None = Field(default=None, min_length=1, max_length=64)
    backtest: SubmitBacktest | None = None
    market_import: MarketImportAction | None = None
    report: ReportAction | None = None


class ScheduleCreate(_Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["nightly backtest"])
    cron: str | None = Field(
        default=None, min_length=9, max_length=100, examples=["0 9 * * 1-5"], description="5 fields"
    )
    interval_s: int | None = Field(default=None, ge=1, le=366 * 86_400, examples=[3600])
    timezone: str = Field(default="UTC", min_length=1, max_length=64, examples=["Europe/Paris"])
    action: ScheduleAction
    missed: MISSED = Field(default="skip", description="firings missed while down: skip, or run once")
    enabled: bool = True


class ScheduleRef(_Request):
    schedule_id: str = ID


class ScheduleEnable(_Request):
    schedule_id: str = ID
    enabled: bool


class ScheduleListRequest(_Request):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class ScheduleRunsRequest(_Request):
    schedule_id: str = ID
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class ScheduleInfo(_Reply):
    schedule_id: str
    name: str
    cron: str | None = None
    interval_s: int | None = None
    timezone: str
    action: dict[str, Any] = Field(description="the action as given, the backtest body with its defaults")
    missed: MISSED
    enabled: bool
    next_run_at: datetime | None = Field(default=None, description="none while disabled")
    created_at: datetime
    updated_at: datetime


class ScheduleList(_Reply):
    items: list[ScheduleInfo] = Field(description="newest first")
    next_cursor: str | None = None


class ScheduleDeleted(_Reply):
    schedule_id: str
    deleted: bool


class EquitySummary(_Reply):
    start_equity: Signed = Field(description="equity at the end of the first day")
    end_equity: Signed
    net_pnl: Signed = Field(description="end − start equity")
    min_drawdown_pct: float = Field(description="the deepest drawdown / running peak (≤ 0)")
    trades: int = Field(ge=0)
    days: int = Field(ge=0, description="daily points in the range")


class PerformanceReport(_Reply):
    scope: Literal["account", "bot"]
    id: str
    start: date
    end: date
    capital: Positive
    metrics: dict[str, float | None] = Field(description="analytics' metrics of the range; null = undefined")
    equity: EquitySummary | None = Field(default=None, description="none when the range has no daily row")


class ScheduleRun(_Reply):
    scheduled_for: datetime = Field(description="the firing time this run is for")
    outcome: OUTCOME
    detail: str = Field(default="", description="why it failed or was skipped; the backtest id it queued")
    backtest_id: str | None = None
    import_id: str | None = Field(default=None, description="market-data's import job a market_import queued")
    report: PerformanceReport | None = Field(default=None, description="what a report action stored")
    started_at: datetime
    finished_at: datetime | None = None


class ScheduleRunList(_Reply):
    schedule_id: str
    items: list[ScheduleRun] = Field(description="newest first")
    next_cursor: str | None = None


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("schedules_create", ScheduleCreate, ScheduleInfo, "Create a cron or interval schedule."),
    _rq("schedules_list", ScheduleListRequest, ScheduleList, "The caller's schedules, newest first."),
    _rq("schedules_get", ScheduleRef, ScheduleInfo, "One of the caller's schedules."),
    _rq("schedules_enable", ScheduleEnable, ScheduleInfo, "Enable (from now on) or disable a schedule."),
    _rq("schedules_delete", ScheduleRef, ScheduleDeleted, "Delete a schedule and its run history."),
    _rq("schedules_runs", ScheduleRunsRequest, ScheduleRunList, "A schedule's runs, newest first."),
)
