"""risk-monitor's positions, limits, alerts and kill switch (``svc.risk-monitor.*``, ``risk.evt.alert``).

The pre-trade check and the halt/resume events are in ``contracts.risk`` (order-router's side).
Every op checks the owner from ``tl-user-id``: another user's account is ``not_found`` exactly like
an unknown one. ``account_id`` null on limits means the user's limits for all their accounts.

Error codes: ``validation_error`` 422 naming the field, ``not_found`` 404, ``unauthorized`` 401,
``forbidden`` 403 (a global stop or resume by a non-admin).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from tradeloom.shared.contracts.orders import FlattenLeft, FlattenOrder
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
    bot_id: str | None = Field(default=None, description="the bot whose orders made it; null: no bot")
    quantity: Signed = Field(description="long > 0, short < 0")
    average_entry: NonNegative
    realised_pnl: Signed
    fees: NonNegative
    mark_price: Positive | None = Field(default=None, description="last trade price seen")
    unrealised_pnl: Signed | None = None
    updated_at: datetime
    venue: str | None = None
    contracts: Signed | None = Field(default=None, description="perpetuals: quantity / contract size")
    leverage: Positive | None = Field(default=None, description="perpetuals: the account's for the symbol")
    margin_mode: Literal["isolated", "cross"] | None = None
    margin_used: NonNegative | None = Field(
        default=None, description="perpetuals: |quantity| × mark / leverage"
    )
    liquidation_price: NonNegative | None = Field(
        default=None, description="isolated perpetuals: estimate (see risk-monitor README, Perpetuals)"
    )
    position_side: Literal["long", "short"] | None = Field(
        default=None,
        description="hedge position mode: the long or the short position on the symbol; null: one-way or spot",
    )


class PositionList(Reply):
    items: list[PositionInfo]


class ExposureSplit(Reply):
    gross: NonNegative = Field(description="sum of |net notional| of its symbols")
    net: Signed


class ExposureInfo(Reply):
    account_id: str
    gross: NonNegative = Field(description="sum over symbols of |quantity × mark| (entry when no mark)")
    net: Signed = Field(description="sum of quantity × mark")
    per_symbol: dict[str, Signed] = Field(description="signed notional per symbol (every bot's netted)")
    realised_pnl: Signed
    unrealised_pnl: Signed
    day_pnl: Signed = Field(description="realised minus fees since the account's trading day began")
    trading_day: str
    day_high_water: Signed = Field(
        default=Decimal(0), description="intraday high-water mark of day_pnl (after any fill; 0 at the start)"
    )
    day_drawdown: NonNegative = Field(default=Decimal(0), description="day_high_water − day_pnl")
    per_asset: dict[str, ExposureSplit] = Field(default_factory=dict, description="by base asset")
    per_venue: dict[str, ExposureSplit] = Field(default_factory=dict)
    long: NonNegative = Field(default=Decimal(0), description="notional of the symbols held long")
    short: NonNegative = Field(default=Decimal(0), description="notional of the symbols held short")
    long_short_ratio: NonNegative | None = Field(default=None, description="long / short; null: no short")


class EquityRequest(Request):
    account_id: str = Field(min_length=1, max_length=64)
    valuation_asset: str = Field(default="USDT", min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$")


class BalanceMark(Reply):
    asset: str
    total: NonNegative
    mark_price: Positive | None = Field(default=None, description="in the valuation asset; null: no price")
    value: NonNegative | None = None


class EquityInfo(Reply):
    """The account's balances (order-router's) at the last trade prices seen."""

    account_id: str
    valuation_asset: str
    balances: list[BalanceMark]
    equity: NonNegative = Field(description="sum of the balances' values (those with a price)")
    unpriced_assets: list[str] = Field(description="balances left out of the equity: no price known")
    gross_exposure: NonNegative
    leverage: NonNegative | None = Field(default=None, description="gross exposure / equity")
    perp_pnl: Signed = Field(
        default=Decimal(0), description="perpetuals' realised − fees + unrealised PnL, included in equity"
    )
    margin_used: NonNegative = Field(default=Decimal(0), description="initial margin of the perpetuals held")
    margin_free: Signed = Field(default=Decimal(0), description="equity − margin_used")
    maintenance_margin: NonNegative = Field(
        default=Decimal(0), description="perpetuals: the sum of their tiered maintenance margins at the marks"
    )
    margin_ratio: NonNegative | None = Field(
        default=None,
        description="perpetuals: the worst margin pool's (cross, each isolated position) maintenance / equity; "
        "1 = liquidation; null: no perpetual, or a pool's equity ≤ 0",
    )
    liquidation_prices: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="perpetuals, isolated and cross (the other cross positions at their marks); 0: never",
    )


class LimitsRef(Request):
    account_id: str | None = ACCOUNT


BOT = Field(
    default=None,
    min_length=1,
    max_length=64,
    description="one bot's limits on the account (account_id needed)",
)


class LimitsScope(LimitsRef):
    bot_id: str | None = BOT


class LimitsPut(Request):
    """The whole set (a field left out is no limit)."""

    account_id: str | None = ACCOUNT
    bot_id: str | None = BOT
    max_order_notional: Positive | None = None
    max_position_notional: Positive | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=100_000)
    max_daily_loss: Positive | None = None
    max_gross_exposure: Positive | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_leverage: Positive | None = Field(default=None, description="gross exposure / equity")
    max_daily_loss_hard: Positive | None = Field(
        default=None,
        description="breached: entries refused and risk.evt.flatten asks to close every position",
    )
    max_drawdown: Positive | None = Field(
        default=None, description="below the end-of-day high-water mark; the floor locks at starting_balance"
    )
    max_net_delta: Positive | None = Field(
        default=None,
        description="option entries: |net delta| of the order's underlying (options + underlying, in its units)",
    )
    max_net_vega: Positive | None = Field(
        default=None,
        description="option entries: |net vega| of the order's underlying (quote asset per vol point)",
    )
    starting_balance: Positive | None = Field(
        default=None,
        description="equity = this + PnL folded from fills; needed by max_leverage and max_drawdown",
    )
    alert_threshold_pct: Positive = Field(
        default=Decimal(80), le=100, description="alert from this % of a limit"
    )
    day_boundary_tz: str = Field(default="UTC", min_length=1, max_length=64, examples=["America/Chicago"])
    day_boundary_time: str = Field(
        default="00:00", pattern=HH_MM, examples=["17:00"], description="local time the trading day starts"
    )


class LimitsInfo(Reply):
    account_id: str | None
    bot_id: str | None = None
    max_order_notional: Positive | None = None
    max_position_notional: Positive | None = None
    max_open_orders: int | None = None
    max_daily_loss: Positive | None = None
    max_gross_exposure: Positive | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_leverage: Positive | None = Field(default=None, description="gross exposure / equity")
    max_daily_loss_hard: Positive | None = Field(
        default=None,
        description="breached: entries refused and risk.evt.flatten asks to close every position",
    )
    max_drawdown: Positive | None = Field(
        default=None, description="below the end-of-day high-water mark; the floor locks at starting_balance"
    )
    max_net_delta: Positive | None = Field(
        default=None,
        description="option entries: |net delta| of the order's underlying (options + underlying, in its units)",
    )
    max_net_vega: Positive | None = Field(
        default=None,
        description="option entries: |net vega| of the order's underlying (quote asset per vol point)",
    )
    starting_balance: Positive | None = Field(
        default=None,
        description="equity = this + PnL folded from fills; needed by max_leverage and max_drawdown",
    )
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
    """``user``: the caller's own trading (or, with ``account_id``, one of their accounts);
    ``global``: everyone (admin only)."""

    scope: HaltScope = "user"
    reason: str = Field(default="", max_length=500)
    account_id: str | None = Field(default=None, min_length=1, max_length=64, description="one account only")
    flatten: bool = Field(
        default=False, description="stop: also ask to close every position (risk.evt.flatten)"
    )


class HaltInfo(Reply):
    scope: HaltScope
    user_id: str | None
    halted: bool
    reason: str
    account_id: str | None = None
    flatten: bool = False


class EodRequest(Request):
    account_id: str = Field(min_length=1, max_length=64)
    limit: int = LIMIT


class EodInfo(Reply):
    trading_day: date = Field(description="named by the local date the trading day starts on")
    day_pnl: Signed = Field(description="realised PnL minus fees of the day's fills")
    balance: Signed = Field(description="starting balance + realised PnL − fees at the day's close")
    high_water: Signed = Field(description="highest close so far (at least the starting balance)")
    floor: Signed | None = Field(default=None, description="max_drawdown floor in force that day")
    breached: bool = Field(description="the close was at or below the floor")


class EodList(Reply):
    items: list[EodInfo] = Field(description="newest first")


class LimitChangesRequest(Request):
    account_id: str | None = Field(default=None, min_length=1, max_length=64, description="one scope only")
    limit: int = LIMIT


LimitValues = dict[str, str | int | None]


class LimitChange(Reply):
    change_id: int
    account_id: str | None = Field(description="null: the user's limits for all their accounts")
    bot_id: str | None = Field(default=None, description="a bot's limits on the account")
    changed_by: str
    action: Literal["put", "delete"]
    old_values: LimitValues | None = Field(description="null: there were no limits")
    new_values: LimitValues | None = Field(description="null: deleted")
    changed_at: datetime


class LimitChangeList(Reply):
    items: list[LimitChange] = Field(description="newest first")


class RiskAlert(Event):
    """A limit approached or breached, once per (account, limit, level, trading day)."""

    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "alert"
    major: ClassVar[int] = 1

    user_id: str
    alert: AlertInfo


class RiskPositionChanged(Event):
    """A position changed: a fill was folded into it, or its fills moved to the bot that made them.

    ``position`` is what ``positions_list`` shows, valued at the fill's price (no mark when fills
    only moved between bots); a position left without fills is announced once with quantity 0.
    Written to the outbox in the fold's transaction, so each change is announced exactly once.
    """

    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "position_changed"
    major: ClassVar[int] = 1

    user_id: str
    position: PositionInfo


class FlattensRequest(Request):
    account_id: str = Field(min_length=1, max_length=64)
    limit: int = LIMIT


class FlattenResult(Reply):
    """How a flatten of the account ended (order-router's ``orders.evt.flatten_completed``): each
    close order, and what could not be closed (dust and the like), per position with its reason."""

    flatten_id: str = Field(max_length=64, description="the id of the risk.evt.flatten event")
    account_id: str
    reason: str
    outcome: Literal["closed", "partial", "nothing_held"]
    orders: list[FlattenOrder]
    left: list[FlattenLeft] = Field(description="positions, or parts, left open, each with why")
    completed_at: datetime


class FlattenResultList(Reply):
    items: list[FlattenResult] = Field(description="newest first")


def _rq(op: str, request: type[Request], reply: type[Reply], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[EventContract, ...] = (
    EventContract(RiskAlert, "RISK", ("account_id",), "A limit approached or breached."),
    EventContract(
        RiskPositionChanged,
        "RISK",
        ("account_id",),
        "A position changed (a fill folded, or moved to its bot).",
    ),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("positions_list", PositionsRequest, PositionList, "The caller's positions."),
    _rq("exposure", LimitsRef, ExposureInfo, "Exposure and PnL of one account."),
    _rq("equity", EquityRequest, EquityInfo, "Balances, equity and leverage of one account on mark."),
    _rq("limits_get", LimitsScope, LimitsInfo, "Limits of one bot, one account or of the user."),
    _rq("limits_put", LimitsPut, LimitsInfo, "Set the limits of one bot, one account or of the user."),
    _rq(
        "limits_delete", LimitsScope, LimitsInfo, "Remove the limits of one bot, one account or of the user."
    ),
    _rq("eod_balances", EodRequest, EodList, "End-of-day balance history and drawdown floor of an account."),
    _rq("limit_changes", LimitChangesRequest, LimitChangeList, "Audit of the caller's limit changes."),
    _rq("alerts_list", AlertListRequest, AlertList, "Alerts, newest first."),
    _rq("alerts_ack", AlertRef, AlertInfo, "Acknowledge an alert."),
    _rq("emergency_stop", HaltRequest, HaltInfo, "Halt trading of the caller (or everyone: admin)."),
    _rq("resume", HaltRequest, HaltInfo, "Lift a halt of the same scope."),
    _rq("flattens_list", FlattensRequest, FlattenResultList, "How the flattens of an account ended."),
)
