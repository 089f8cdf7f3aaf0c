"""Requests of order-router's exchange connections (``svc.order-router.exchange_connections_*``).

An exchange connection is a user's API key at a real venue (any ccxt exchange id order-router
supports; ``exchange_venues_list`` names them). The key, secret and passphrase are sealed at rest
(AES-256-GCM) and never returned: replies carry only the key's last four characters. Permissions
are read from the venue where ccxt can tell (``null`` where it cannot); a key that can withdraw is
refused unless ``allow_withdrawal_permission`` is true. ``exchange_connections_balances`` reads the
venue's balances with the stored key; ``exchange_accounts_create`` opens an account whose orders go
to the connection's venue (``AccountInfo`` with kind ``exchange``).

Error codes: ``validation_error`` 422 naming the field (``venue``, ``label``, ``api_key``…,
``allow_withdrawal_permission`` for a withdrawal-enabled key), ``venue_auth_failed`` 422 (the venue
refused the key), ``unavailable``/``timeout`` 503/504 (the venue did not answer), ``unauthorized``
401 (no user), ``not_found`` 404 (a connection that does not exist or belongs to someone else).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.orders_accounts import AccountInfo, Balance
from tradeloom.shared.contracts.spec import RequestContract

SERVICE = "order-router"
CONNECTION_ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000002"])
VENUE = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$", examples=["binance"])
LABEL = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["main binance"])
SECRET_TEXT = Field(min_length=1, max_length=4096, json_schema_extra={"writeOnly": True})


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, hide_input_in_errors=True)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ExchangeConnectionCreate(_Request):
    """A new connection; the key is checked with a live call before it is stored."""

    venue: str = VENUE
    label: str = LABEL
    api_key: str = Field(min_length=1, max_length=4096, json_schema_extra={"writeOnly": True})
    secret: str = SECRET_TEXT
    passphrase: str | None = Field(default=None, max_length=4096, json_schema_extra={"writeOnly": True})
    sandbox: bool = Field(default=False, description="the venue's testnet/sandbox")
    allow_withdrawal_permission: bool = Field(
        default=False, description="confirm a key that may withdraw funds (refused otherwise)"
    )


class ExchangeConnectionUpdate(_Request):
    """Change the label, or replace the key (all of api_key and secret, re-checked live)."""

    connection_id: str = CONNECTION_ID
    label: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")
    api_key: str | None = Field(
        default=None, min_length=1, max_length=4096, json_schema_extra={"writeOnly": True}
    )
    secret: str | None = Field(
        default=None, min_length=1, max_length=4096, json_schema_extra={"writeOnly": True}
    )
    passphrase: str | None = Field(default=None, max_length=4096, json_schema_extra={"writeOnly": True})
    sandbox: bool | None = None
    allow_withdrawal_permission: bool = False


class ExchangeAccountCreate(_Request):
    """An account trading at the connection's venue; its balances are the venue's, read at once."""

    connection_id: str = CONNECTION_ID
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["binance spot"])


class ExchangeConnectionRef(_Request):
    connection_id: str = CONNECTION_ID


class ExchangeConnectionListRequest(_Request):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class ExchangeVenuesRequest(_Request):
    pass


class KeyPermissions(_Reply):
    read: bool | None = Field(description="null: the venue does not tell")
    trade: bool | None
    withdraw: bool | None


class ExchangeConnectionInfo(_Reply):
    connection_id: str
    venue: str
    label: str
    sandbox: bool
    api_key_last4: str = Field(examples=["****7f3a"], description="the only part of the key ever shown")
    permissions: KeyPermissions
    created_at: datetime
    updated_at: datetime


class ExchangeConnectionList(_Reply):
    items: list[ExchangeConnectionInfo]
    next_cursor: str | None = None


class ExchangeConnectionDeleted(_Reply):
    connection_id: str
    deleted: bool = Field(description="always true: an unknown or another user's connection is not_found")


class ExchangeConnectionTestResult(_Reply):
    """A live authenticated call with the stored key."""

    connection_id: str
    ok: bool
    latency_ms: float = Field(ge=0, description="of one authenticated request")
    answer: str = Field(max_length=500, examples=["authenticated; 3 assets with a balance"])
    error_code: str | None = Field(default=None, examples=["venue_auth_failed"])
    permissions: KeyPermissions | None = None


class ExchangeConnectionBalances(_Reply):
    """Balances as the venue reports them now, for the connection's key."""

    connection_id: str
    balances: list[Balance]


class ExchangeVenues(_Reply):
    venues: list[str] = Field(description="ccxt exchange ids with every call order-router needs")


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[()] = ()
REQUESTS: tuple[RequestContract, ...] = (
    _rq("exchange_venues_list", ExchangeVenuesRequest, ExchangeVenues, "Venues a connection may name."),
    _rq(
        "exchange_connections_create",
        ExchangeConnectionCreate,
        ExchangeConnectionInfo,
        "Add a venue API key.",
    ),
    _rq(
        "exchange_connections_list",
        ExchangeConnectionListRequest,
        ExchangeConnectionList,
        "The caller's exchange connections, newest first.",
    ),
    _rq("exchange_connections_get", ExchangeConnectionRef, ExchangeConnectionInfo, "One connection."),
    _rq(
        "exchange_connections_update",
        ExchangeConnectionUpdate,
        ExchangeConnectionInfo,
        "Relabel or replace the key.",
    ),
    _rq(
        "exchange_connections_delete",
        ExchangeConnectionRef,
        ExchangeConnectionDeleted,
        "Delete a connection and its sealed key.",
    ),
    _rq(
        "exchange_connections_test",
        ExchangeConnectionRef,
        ExchangeConnectionTestResult,
        "Test the stored key with a live call: answer and latency.",
    ),
    _rq(
        "exchange_connections_balances",
        ExchangeConnectionRef,
        ExchangeConnectionBalances,
        "Balances fetched from the venue with the stored key.",
    ),
    _rq(
        "exchange_accounts_create",
        ExchangeAccountCreate,
        AccountInfo,
        "Open an exchange account: orders on it go to the connection's venue.",
    ),
)
