"""``/v1/accounts``, ``/v1/orders``, ``/v1/fills``: paper accounts, orders and fills, each route one
``svc.order-router.<op>``.

Writes take scope ``trade`` (order submission also the ``orders`` rate bucket); reads take
``read``. Another user's account or order answers 404, like an unknown one. The risk fail-open
flag of an account is an admin route.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import ID_PATTERN, READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.orders import (
    MAX_STATUS_FILTER,
    CancelAllReply,
    CancelAllRequest,
    FillList,
    FillListRequest,
    OrderAmend,
    OrderDetail,
    OrderInfo,
    OrderList,
    OrderListRequest,
    OrderRef,
    OrderStats,
    OrderStatsRequest,
    OrderSubmit,
)
from tradeloom.shared.contracts.orders_accounts import (
    AccountInfo,
    AccountList,
    AccountListRequest,
    AccountRef,
    AccountReset,
    AccountRiskFailOpen,
    BalanceIn,
    BalancesReply,
    PaperAccountCreate,
)
from tradeloom.shared.contracts.orders_common import ORDER_STATUS, ORDER_TYPE, SERVICE, SIDE
from tradeloom.shared.contracts.wire import Positive

router = APIRouter(prefix="/v1", tags=["trading"])
READ, TRADE, ADMIN = Scope.READ, Scope.TRADE, Scope.ADMIN
ACCOUNT_ID = id_param("account_id", "an account id")
ORDER_ID = id_param("order_id", "an order id")


def _q(annotation: object, **spec: object) -> Param:
    name = str(spec.pop("name"))
    return Param(name, annotation, Query(**spec), None)  # type: ignore[arg-type]


ACCOUNT_FILTER = _q(str | None, name="account_id", min_length=1, max_length=64, pattern=ID_PATTERN)
ORDER_FILTER = _q(str | None, name="order_id", min_length=1, max_length=64, pattern=ID_PATTERN)
SYMBOL_FILTER = _q(str | None, name="symbol", min_length=3, max_length=64, examples=["BTC/USDT"])
SINCE = _q(datetime | None, name="since", description="created at or after (RFC 3339)")
UNTIL = _q(datetime | None, name="until", description="created before (RFC 3339)")


class ResetBody(BaseModel):
    """The body of ``POST /v1/accounts/{account_id}/reset``: new balances, or the starting ones."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    balances: list[BalanceIn] | None = Field(default=None, min_length=1, max_length=20)


class FailOpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    fail_open: bool
    reason: str = Field(min_length=1, max_length=500)


class AmendBody(BaseModel):
    """The body of ``PATCH /v1/orders/{order_id}``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    price: Positive | None = None
    stop_price: Positive | None = None
    quantity: Positive | None = None


ROUTES = (
    Forward(
        "POST", "/accounts", TRADE, SERVICE, "accounts_create", PaperAccountCreate, AccountInfo,
        name="create_account", status=201, body=PaperAccountCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Open a paper trading account with starting balances",
        description="Scope `trade`; takes `Idempotency-Key`. Default: 10,000 USDT on the `sim` market.",
    ),
    Forward(
        "GET", "/accounts", READ, SERVICE, "accounts_list", AccountListRequest, AccountList,
        name="list_accounts", page=True, cursor="account_list", errors=READ_ERRORS,
        query=(Param("include_archived", bool, Query(description="archived accounts too"), False),),
        summary="The caller's accounts, newest first",
    ),
    Forward(
        "GET", "/accounts/{account_id}", READ, SERVICE, "accounts_get", AccountRef, AccountInfo,
        name="get_account", path_params=(ACCOUNT_ID,), errors=READ_ERRORS, summary="One account",
    ),
    Forward(
        "GET", "/accounts/{account_id}/balances", READ, SERVICE, "accounts_balances", AccountRef,
        BalancesReply,
        name="get_balances", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        summary="Free and locked balances of an account",
    ),
    Forward(
        "POST", "/accounts/{account_id}/reset", TRADE, SERVICE, "accounts_reset", AccountReset, AccountInfo,
        name="reset_account", path_params=(ACCOUNT_ID,), body=ResetBody, errors=WRITE_ERRORS,
        summary="Cancel every open order and restore the starting (or given) balances (audited)",
    ),
    Forward(
        "POST", "/accounts/{account_id}/archive", TRADE, SERVICE, "accounts_archive", AccountRef,
        AccountInfo,
        name="archive_account", path_params=(ACCOUNT_ID,), errors=WRITE_ERRORS,
        summary="Archive an account: open orders cancelled, no new ones (audited)",
    ),
    Forward(
        "PUT", "/admin/accounts/{account_id}/risk-fail-open", ADMIN, SERVICE, "accounts_risk_fail_open",
        AccountRiskFailOpen, AccountInfo,
        name="set_risk_fail_open", path_params=(ACCOUNT_ID,), body=FailOpenBody, errors=WRITE_ERRORS,
        summary="Admin: let an account's orders pass when the risk check does not answer (audited)",
    ),
    Forward(
        "POST", "/orders", TRADE, SERVICE, "orders_submit", OrderSubmit, OrderInfo,
        name="submit_order", bucket=ratelimit.ORDERS, status=201, body=OrderSubmit, idempotent=True,
        errors=WRITE_ERRORS,
        summary="Submit an order on a paper account",
        description="Validated (instrument, lot and tick grid, minimum notional, free funds: 422 naming "
        "the field and `rule`), checked by risk-monitor (no answer: `rejected` with "
        "`risk_check_unavailable`), then matched against the market's trades. Idempotent on "
        "`client_order_id` per account and on `Idempotency-Key`.",
    ),
    Forward(
        "GET", "/orders", READ, SERVICE, "orders_list", OrderListRequest, OrderList,
        name="list_orders", page=True, cursor="order_list", errors=READ_ERRORS,
        query=(
            ACCOUNT_FILTER, SYMBOL_FILTER,
            _q(
                list[ORDER_STATUS] | None, name="status", max_length=MAX_STATUS_FILTER,
                description="any of these statuses",
            ),
            Param("open_only", bool, Query(description="only orders still working"), False),
            _q(SIDE | None, name="side"), _q(ORDER_TYPE | None, name="type"), SINCE, UNTIL,
        ),
        summary="The caller's orders, newest first, with filters",
    ),
    Forward(
        "GET", "/orders/stats", READ, SERVICE, "orders_stats", OrderStatsRequest, OrderStats,
        name="order_stats", query=(ACCOUNT_FILTER, SINCE, UNTIL), errors=READ_ERRORS,
        summary="Order counts by status and type, fill ratio, slippage and fees",
    ),
    Forward(
        "POST", "/orders/cancel-all", TRADE, SERVICE, "orders_cancel_all", CancelAllRequest, CancelAllReply,
        name="cancel_all_orders", body=CancelAllRequest, errors=WRITE_ERRORS,
        summary="Cancel every open order of an account (optionally of one symbol)",
    ),
    Forward(
        "GET", "/orders/{order_id}", READ, SERVICE, "orders_get", OrderRef, OrderDetail,
        name="get_order", path_params=(ORDER_ID,), errors=READ_ERRORS, summary="One order with its fills",
    ),
    Forward(
        "DELETE", "/orders/{order_id}", TRADE, SERVICE, "orders_cancel", OrderRef, OrderInfo,
        name="cancel_order", path_params=(ORDER_ID,), errors=WRITE_ERRORS, summary="Cancel an open order",
    ),
    Forward(
        "PATCH", "/orders/{order_id}", TRADE, SERVICE, "orders_amend", OrderAmend, OrderInfo,
        name="amend_order", path_params=(ORDER_ID,), body=AmendBody, errors=WRITE_ERRORS,
        summary="Change the price, stop price or quantity of an open order",
    ),
    Forward(
        "GET", "/fills", READ, SERVICE, "fills_list", FillListRequest, FillList,
        name="list_fills", page=True, cursor="fill_list", errors=READ_ERRORS,
        query=(ACCOUNT_FILTER, ORDER_FILTER, SYMBOL_FILTER),
        summary="The caller's fills, newest first",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
