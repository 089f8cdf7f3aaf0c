"""``/v1/connections``, ``/v1/venues``: exchange connections (a user's API key at a real venue)
and the exchange accounts trading through them, each route one ``svc.order-router.<op>``.

Writes take scope ``trade``; reads ``read``. The key, secret and passphrase are write-only: no
answer ever carries more than the key's last four characters. Another user's connection answers
404, like an unknown one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.exchange_connections import (
    SERVICE,
    ExchangeAccountCreate,
    ExchangeConnectionBalances,
    ExchangeConnectionCreate,
    ExchangeConnectionDeleted,
    ExchangeConnectionInfo,
    ExchangeConnectionList,
    ExchangeConnectionListRequest,
    ExchangeConnectionRef,
    ExchangeConnectionTestResult,
    ExchangeConnectionUpdate,
    ExchangeVenues,
    ExchangeVenuesRequest,
)
from tradeloom.shared.contracts.orders_accounts import AccountInfo

router = APIRouter(prefix="/v1", tags=["exchange connections"])
READ, TRADE = Scope.READ, Scope.TRADE
CONNECTION_ID = id_param("connection_id", "a connection id")
# the shared sets plus 502: these calls reach the venue (its unexpected answer is a bad gateway)
VENUE_READ_ERRORS = problem_responses(401, 403, 404, 422, 429, 502, 503, 504)
VENUE_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 502, 503, 504)
WRITE_ONLY: dict[str, Any] = {"writeOnly": True}


class UpdateBody(BaseModel):
    """The body of ``PATCH /v1/connections/{connection_id}``: a new label, or a new key."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, hide_input_in_errors=True)
    label: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")
    api_key: str | None = Field(default=None, min_length=1, max_length=4096, json_schema_extra=WRITE_ONLY)
    secret: str | None = Field(default=None, min_length=1, max_length=4096, json_schema_extra=WRITE_ONLY)
    passphrase: str | None = Field(default=None, max_length=4096, json_schema_extra=WRITE_ONLY)
    sandbox: bool | None = None
    allow_withdrawal_permission: bool = False


class AccountBody(BaseModel):
    """The body of ``POST /v1/connections/{connection_id}/accounts``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["binance spot"])


ROUTES = (
    Forward(
        "GET", "/venues", READ, SERVICE, "exchange_venues_list", ExchangeVenuesRequest, ExchangeVenues,
        name="list_venues", errors=READ_ERRORS,
        summary="Venues an exchange connection may name (ccxt exchange ids with every call needed)",
    ),
    Forward(
        "POST", "/connections", TRADE, SERVICE, "exchange_connections_create", ExchangeConnectionCreate,
        ExchangeConnectionInfo,
        name="create_connection", status=201, body=ExchangeConnectionCreate, errors=VENUE_WRITE_ERRORS,
        summary="Add a venue API key (checked live, stored encrypted, never shown again)",
        description="The venue must accept the key (`venue_auth_failed` naming `api_key` otherwise); a "
        "key that may withdraw funds needs `allow_withdrawal_permission: true`.",
    ),
    Forward(
        "GET", "/connections", READ, SERVICE, "exchange_connections_list", ExchangeConnectionListRequest,
        ExchangeConnectionList,
        name="list_connections", page=True, cursor="connection_list", errors=READ_ERRORS,
        summary="The caller's exchange connections, newest first",
    ),
    Forward(
        "GET", "/connections/{connection_id}", READ, SERVICE, "exchange_connections_get",
        ExchangeConnectionRef, ExchangeConnectionInfo,
        name="get_connection", path_params=(CONNECTION_ID,), errors=READ_ERRORS, summary="One connection",
    ),
    Forward(
        "PATCH", "/connections/{connection_id}", TRADE, SERVICE, "exchange_connections_update",
        ExchangeConnectionUpdate, ExchangeConnectionInfo,
        name="update_connection", path_params=(CONNECTION_ID,), body=UpdateBody, errors=VENUE_WRITE_ERRORS,
        summary="Relabel a connection or replace its key (a new key is checked live)",
    ),
    Forward(
        "DELETE", "/connections/{connection_id}", TRADE, SERVICE, "exchange_connections_delete",
        ExchangeConnectionRef, ExchangeConnectionDeleted,
        name="delete_connection", path_params=(CONNECTION_ID,), errors=WRITE_ERRORS,
        summary="Delete a connection and its encrypted key (409 while an active account uses it)",
    ),
    Forward(
        "POST", "/connections/{connection_id}/test", TRADE, SERVICE, "exchange_connections_test",
        ExchangeConnectionRef, ExchangeConnectionTestResult,
        name="test_connection", path_params=(CONNECTION_ID,), errors=VENUE_WRITE_ERRORS,
        summary="A live authenticated call with the stored key: its answer and latency",
    ),
    Forward(
        "GET", "/connections/{connection_id}/balances", READ, SERVICE, "exchange_connections_balances",
        ExchangeConnectionRef, ExchangeConnectionBalances,
        name="get_connection_balances", path_params=(CONNECTION_ID,), errors=VENUE_READ_ERRORS,
        summary="Balances as the venue reports them now",
    ),
    Forward(
        "POST", "/connections/{connection_id}/accounts", TRADE, SERVICE, "exchange_accounts_create",
        ExchangeAccountCreate, AccountInfo,
        name="create_exchange_account", status=201, path_params=(CONNECTION_ID,), body=AccountBody,
        errors=VENUE_WRITE_ERRORS,
        summary="Open an exchange account: its orders go to the connection's venue",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
