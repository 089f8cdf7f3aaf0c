"""risk-monitor's positions, limits, alerts and kill switch (``svc.risk-monitor.*``, ``risk.evt.alert``).

The pre-trade check and the halt/resume events are in ``contracts.risk`` (order-router's side).
Every op checks the owner from ``tl-user-id``: another user's account is ``not_found`` exactly like
an unknown one. ``account_id`` null on limits means the user's limits for all their accounts.

Error codes: ``validation_error`` 422 naming the field, ``not_found`` 404, ``unauthorized`` 401,
``forbidden`` 403 (a global stop or resume by a non-admin).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from tradeloom.shared.contracts.orders_common import LIMIT, Reply, Request
from tradeloom.shared.contracts.risk import HaltScope
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed
from tradeloom.shared.envelope import Event

SERVICE = "risk-monitor"
ACCOUNT = Field(default=None, min_length=1, max_length=64, description="null: the user's own limits")
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
AlertLevel = Literal["approaching", "breached"]
Severity = Literal["info", "warning", "critical"]


class PositionsRequest(Request):
    account_id: str | None = Field(default=None, min_length=1, max_length=64)


class PositionInfo(Reply):
    account_id: str
    symbol: str
    bot_id: str | None = None
    quantity: Signed = Field(description="long > 0, short < 0")
    average_entry: NonNegative
    realised_pnl: Signed
    fees: NonNegative
    mark_price: Positive | None = Field(default=None, description="last trade price seen")
    unrealised_pnl: Signed | None = None
    updated_at: datetime


class PositionList(Reply):
    items: list[PositionInfo]


class ExposureInfo(Reply):
    account_id: str
    gross: NonNegative = Field(description="sum of |quantity| × mark (entry when no mark)")
    net: Signed = Field(description="sum of quantity × mark")
    per_symbol: dict[str, Signed] = Field(description="signed notional per symbol")
    realised_pnl: Signed
    unrealised_pnl: Signed
    day_pnl: Signed = Field(description="realised minus fees since the account's trading day began")
    trading_day: str


class LimitsRef(Request):
    account_id: str | None = ACCOUNT


class LimitsPut(Request):
    """The whole set (a field left out is no limit)."""

    account_id: str | None = ACCOUNT
    max_order_notional: Positive | None = None
    max_position_notional: Positive | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=100_000)
    max_daily_loss: Positive | None = None
    max_gross_exposure: Positive | None = None
    alert_threshold_pct: Positive = Field(
        default=Decimal(80), le=100, description="alert from this % of a limit"
    )
    day_boundary_tz: str = Field(default="UTC", min_length=1, max_length=64, examples=["America/Chicago"])
    day_boundary_time: str = Field(
        default="00:00", pattern=HH_MM, examples=["17:00"], description="local time the trading day starts"
    )


class LimitsInfo(Reply):
    account_id: str | None
    max_order_notional: Positive | None = None
    max_position_notional: Positive | None = None
    max_open_orders: int | None = None
    max_daily_loss: Positive | None = None
    max_gross_exposure: Positive | None = None
    alert_threshold_pct: Positive
    day_boundary_tz: str
    day_boundary_time: str = Field(examples=["00:00"])
    updated_at: datetime | None = Field(default=None, description="null: no limits set")


class AlertListRequest(Request):
    account_id: str | None = Field(default=None, min_length=1, max_length=64)
    unacknowledged_only: bool = False
    limit: int = LIMIT


class AlertInfo(Reply):
    alert_id: str
    account_id: str
    limit_name: str
    level: AlertLevel
    severity: Severity
    value: Signed
    threshold: Signed
    message: str
    acknowledged_at: datetime | None = None
    created_at: datetime


class AlertList(Reply):
    items: list[AlertInfo] = Field(description="newest first")


class AlertRef(Request):
    alert_id: str = Field(min_length=1, max_length=128)


class HaltRequest(Request):
    """``user``: the caller's own trading; ``global``: everyone (admin only)."""

    scope: HaltScope = "user"
    reason: str = Field(default="", max_length=500)


class HaltInfo(Reply):
    scope: HaltScope
    user_id: str | None
    halted: bool
    reason: str


class RiskAlert(Event):
    """A limit approached or breached, once per (account, limit, level, trading day)."""

    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "alert"
    major: ClassVar[int] = 1

    user_id: str
    alert: AlertInfo


def _rq(op: str, request: type[Request], reply: type[Reply], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[EventContract, ...] = (
    EventContract(RiskAlert, "RISK", ("account_id",), "A limit approached or breached."),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("positions_list", PositionsRequest, PositionList, "The caller's positions."),
    _rq("exposure", LimitsRef, ExposureInfo, "Exposure and PnL of one account."),
    _rq("limits_get", LimitsRef, LimitsInfo, "Limits of one account or of the user."),
    _rq("limits_put", LimitsPut, LimitsInfo, "Set the limits of one account or of the user."),
    _rq("limits_delete", LimitsRef, LimitsInfo, "Remove the limits of one account or of the user."),
    _rq("alerts_list", AlertListRequest, AlertList, "Alerts, newest first."),
    _rq("alerts_ack", AlertRef, AlertInfo, "Acknowledge an alert."),
    _rq("emergency_stop", HaltRequest, HaltInfo, "Halt trading of the caller (or everyone: admin)."),
    _rq("resume", HaltRequest, HaltInfo, "Lift a halt of the same scope."),
)
