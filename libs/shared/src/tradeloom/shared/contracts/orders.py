"""Orders and fills of order-router (``svc.order-router.*``, ``orders.evt.*``).

Submission is idempotent per account on ``client_order_id`` (or ``idempotency_key``): a retry,
even after a restart, answers the original order. Every status change is one
``orders.evt.order_updated.v1.<account_id>`` event carrying the new status, every fill one
``orders.evt.fill.v1.<account_id>``, both written through the outbox with the change.

Error codes: ``validation_error`` 422 with ``details.fields`` naming the field and ``rule``
(``symbol``/unknown_symbol, ``price``/off_tick, ``quantity``/off_lot, ``quantity``/min_notional,
``quantity``/insufficient_funds…), ``not_found`` 404 (unknown or another user's account/order),
``conflict`` 409 (order not open, account archived, trading halted), ``unauthorized`` 401.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from tradeloom.shared.contracts import orders_accounts as acc
from tradeloom.shared.contracts.orders_common import (
    CLIENT_ORDER_ID_PATTERN,
    CURSOR,
    ID,
    LIMIT,
    LIQUIDITY,
    ORDER_STATUS,
    ORDER_TYPE,
    POSITION_SIDE,
    SERVICE,
    SIDE,
    SYMBOL,
    TIME_IN_FORCE,
    Reply,
    Request,
)
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed
from tradeloom.shared.envelope import Event


MAX_STATUS_FILTER = 8  # statuses one order list may filter on (the gateway query uses it too)


class OrderSubmit(Request):
    """A new order on a paper account. ``price`` for limit types, ``stop_price`` for stop and
    take-profit types, one of ``trailing_amount``/``trailing_percent`` for trailing stops,
    ``expire_at`` with ``gtd``. Without ``client_order_id`` one is derived from ``idempotency_key``
    (the ``Idempotency-Key`` header) or generated."""

    account_id: str = ID
    client_order_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=CLIENT_ORDER_ID_PATTERN,
        examples=["bot7-1704164645"],
    )
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=128)
    symbol: str = SYMBOL
    side: SIDE
    type: ORDER_TYPE
    quantity: Positive
    price: Positive | None = None
    stop_price: Positive | None = None
    trailing_amount: Positive | None = Field(default=None, description="trailing distance in price units")
    trailing_percent: Positive | None = Field(default=None, le=50, description="trailing distance in %")
    time_in_force: TIME_IN_FORCE = "gtc"
    expire_at: AwareDatetime | None = None
    post_only: bool = False
    reduce_only: bool = False
    stop_loss_price: Positive | None = Field(
        default=None, description="bracket: once the entry fills, a stop-market exit at this price…"
    )
    take_profit_price: Positive | None = Field(
        default=None, description="…and a take-profit exit at this one, the two an OCO pair"
    )
    trailing_stop_percent: Positive | None = Field(
        default=None,
        le=50,
        description="bracket: the stop leg as a trailing stop sell trailing by this % instead of "
        "stop_loss_price (exclusive with it and trailing_stop_amount)",
    )
    trailing_stop_amount: Positive | None = Field(
        default=None, description="bracket: the stop leg as a trailing stop by this distance in price units"
    )
    position_side: POSITION_SIDE | None = Field(
        default=None,
        description="perpetuals in hedge position mode only (required there, refused otherwise): the "
        "position the order opens (buy long, sell short) or closes (sell long, buy short)",
    )


class OrderInfo(Reply):
    order_id: str
    account_id: str
    client_order_id: str
    venue: str
    symbol: str
    side: SIDE
    type: ORDER_TYPE
    status: ORDER_STATUS
    quantity: Positive
    filled_quantity: NonNegative
    average_price: NonNegative | None = None
    price: Positive | None = None
    stop_price: Positive | None = None
    trailing_amount: Positive | None = None
    trailing_percent: Positive | None = None
    triggered: bool = Field(description="stop/take-profit/trailing: the trigger was hit")
    time_in_force: TIME_IN_FORCE
    expire_at: datetime | None = None
    post_only: bool
    reduce_only: bool
    reference_price: Positive | None = Field(default=None, description="last trade price at submit")
    fees: NonNegative = Field(description="commission paid, in the quote asset")
    reject_reason: str | None = None
    stop_loss_price: Positive | None = None
    take_profit_price: Positive | None = None
    trailing_stop_percent: Positive | None = Field(default=None, description="bracket: trailing stop leg, %")
    trailing_stop_amount: Positive | None = Field(
        default=None, description="bracket: trailing stop leg, price units"
    )
    parent_order_id: str | None = Field(default=None, description="the bracket entry this exit belongs to")
    oco_group: str | None = Field(
        default=None, description="exits of one bracket: the first fill cancels the other"
    )
    created_at: datetime
    updated_at: datetime
    queue_ahead: NonNegative | None = Field(
        default=None,
        description="queue position (accounts with queue_position): volume still ahead at its price",
    )
    position_side: POSITION_SIDE | None = Field(
        default=None, description="hedge position mode: the position it opens or closes; null: one-way or spot"
    )


class FillInfo(Reply):
    fill_id: str
    order_id: str
    account_id: str
    venue: str
    venue_fill_id: str
    symbol: str
    side: SIDE
    price: Positive
    quantity: Positive
    fee: NonNegative
    fee_asset: str
    liquidity: LIQUIDITY
    trade_id: str = Field(description="the market trade that filled it")
    filled_at: datetime
    contract_size: Positive | None = Field(
        default=None,
        description="a perpetual's base units per contract (market-data's multiplier); null: spot",
    )
    position_side: POSITION_SIDE | None = Field(
        default=None, description="hedge position mode: the position it opened or closed; null: one-way or spot"
    )


class OrderRef(Request):
    order_id: str = ID


class OrderDetail(Reply):
    order: OrderInfo
    fills: list[FillInfo]


class OrderListRequest(Request):
    account_id: str | None = None
    symbol: str | None = Field(default=None, min_length=3, max_length=64)
    status: list[ORDER_STATUS] | None = Field(default=None, max_length=MAX_STATUS_FILTER)
    open_only: bool = False
    side: SIDE | None = None
    type: ORDER_TYPE | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    limit: int = LIMIT
    cursor: str | None = CURSOR


class OrderList(Reply):
    items: list[OrderInfo] = Field(description="newest first")
    next_cursor: str | None = None


class CancelAllRequest(Request):
    account_id: str = ID
    symbol: str | None = Field(default=None, min_length=3, max_length=64)


class CancelAllReply(Reply):
    account_id: str
    canceled: list[str] = Field(description="ids of the orders cancelled")


class OrderAmend(Request):
    """New limit/stop price and/or quantity of an open order (quantity not below what has filled)."""

    order_id: str = ID
    price: Positive | None = None
    stop_price: Positive | None = None
    quantity: Positive | None = None


class FillListRequest(Request):
    account_id: str | None = None
    order_id: str | None = None
    symbol: str | None = Field(default=None, min_length=3, max_length=64)
    limit: int = LIMIT
    cursor: str | None = CURSOR


class FillList(Reply):
    items: list[FillInfo] = Field(description="newest first")
    next_cursor: str | None = None


class OrderStatsRequest(Request):
    account_id: str | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class OrderStats(Reply):
    orders: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    fill_ratio: NonNegative = Field(description="filled quantity / ordered quantity")
    average_slippage_bps: Signed | None = Field(
        default=None, description="fills against the reference price at submit, against the trader > 0"
    )
    fees: dict[str, NonNegative] = Field(description="fees paid per asset")


# ---------------------------------------------------------------------------------------- events
class OrderUpdated(Event):
    """An order changed status (or filled further) on ``orders.evt.order_updated.v1.<account_id>``."""

    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "order_updated"
    major: ClassVar[int] = 1

    user_id: str
    previous_status: ORDER_STATUS | None = Field(description="null when the order was just created")
    order: OrderInfo


class FillRecorded(Event):
    """A fill, once per ``(venue, venue_fill_id)``, on ``orders.evt.fill.v1.<account_id>``."""

    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "fill"
    major: ClassVar[int] = 1

    user_id: str
    fill: FillInfo


class FlattenOrder(Reply):
    """One close order of a flatten, as it ended."""

    symbol: str = SYMBOL
    order_id: str = ID
    client_order_id: str = Field(max_length=64, examples=["flat-0190c5e1a2b34c5d8e9f0a1b2c3d4e5f-8f14e45f"])
    side: SIDE
    status: ORDER_STATUS
    quantity: Positive
    filled_quantity: NonNegative


class FlattenLeft(Reply):
    """A position (or the part of one) a flatten did not close, and why: ``below_min_quantity``
    (under one lot), ``below_min_notional`` (a spot close under the venue's minimum notional),
    ``not_free`` (held but not free), ``no_market_price``, ``no_option_quote``,
    ``insufficient_funds`` (a spot buy back the free quote cannot pay)."""

    symbol: str = SYMBOL
    quantity: Positive = Field(description="what stays open (base, contracts or options)")
    reason: str = Field(max_length=64, examples=["below_min_notional"])


class FlattenCompleted(Event):
    """Every close order of a flatten (``risk.evt.flatten``) has ended, on
    ``orders.evt.flatten_completed.v1.<account_id>``: once per flatten event. ``outcome``:
    ``closed`` (every order filled), ``partial`` (one ended unfilled or part filled),
    ``nothing_held`` (no position to close). ``left``: the positions, or parts, not closed (dust
    and the like), each with its reason; any makes the outcome ``partial``."""

    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "flatten_completed"
    major: ClassVar[int] = 1

    user_id: str
    account_id: str = ID
    flatten_id: str = Field(max_length=64, description="the id of the risk.evt.flatten event acted on")
    reason: str = Field(max_length=500)
    outcome: Literal["closed", "partial", "nothing_held"]
    orders: list[FlattenOrder] = Field(max_length=1000)
    left: list[FlattenLeft] = Field(default_factory=list, max_length=1000)


def _rq(op: str, request: type[Request], reply: type[Reply], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[EventContract, ...] = (
    EventContract(OrderUpdated, "ORDERS", ("account_id",), "An order's new status."),
    EventContract(FillRecorded, "ORDERS", ("account_id",), "A fill of an order."),
    EventContract(FlattenCompleted, "ORDERS", ("account_id",), "Every close order of a flatten has ended."),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("accounts_create", acc.PaperAccountCreate, acc.AccountInfo, "Open a paper account."),
    _rq("accounts_get", acc.AccountRef, acc.AccountInfo, "One of the caller's accounts."),
    _rq("accounts_list", acc.AccountListRequest, acc.AccountList, "The caller's accounts, newest first."),
    _rq("accounts_balances", acc.AccountRef, acc.BalancesReply, "Free and locked balances."),
    _rq("accounts_reset", acc.AccountReset, acc.AccountInfo, "Cancel open orders, restore balances."),
    _rq("accounts_archive", acc.AccountRef, acc.AccountInfo, "Archive (orders cancelled, no new ones)."),
    _rq("accounts_risk_fail_open", acc.AccountRiskFailOpen, acc.AccountInfo, "Admin: fail-open flag."),
    _rq("orders_submit", OrderSubmit, OrderInfo, "Submit an order (idempotent per client_order_id)."),
    _rq("orders_get", OrderRef, OrderDetail, "One order with its fills."),
    _rq("orders_list", OrderListRequest, OrderList, "Orders with filters, newest first."),
    _rq("orders_cancel", OrderRef, OrderInfo, "Cancel an open order."),
    _rq("orders_cancel_all", CancelAllRequest, CancelAllReply, "Cancel every open order of an account."),
    _rq("orders_amend", OrderAmend, OrderInfo, "Change price or quantity of an open order."),
    _rq("orders_stats", OrderStatsRequest, OrderStats, "Counts, fill ratio, slippage and fees."),
    _rq("fills_list", FillListRequest, FillList, "Fills, newest first."),
)
