"""Exchange connection operations: venues list, create, list, get, update, delete, test, balances.

Every connection belongs to the caller (``tl-user-id``); an unknown id and another user's id get the
same not_found answer. A new key is checked live before it is stored (the venue must accept it; a
key that may withdraw needs ``allow_withdrawal_permission``), sealed with AES-256-GCM bound to its
owner and id, and never returned: replies carry only its last four characters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.credentials import ApiCredentials, masked, seal
from tradeloom.order_router.store.accounts_store import AccountsStore
from tradeloom.order_router.store.connections_store import ConnectionsStore
from tradeloom.order_router.store.rows import account_info, connection_info, venue_balances
from tradeloom.order_router.venue_access import VenueAccess
from tradeloom.order_router.venues import Permissions, is_supported, supported_venues, vet_new_key
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.exchange_connections import (
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
    KeyPermissions,
)
from tradeloom.shared.contracts.orders_accounts import AccountInfo
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor


def no_connection(connection_id: str) -> NotFound:
    """The one answer for an unknown connection and for another user's."""
    return NotFound(f"no exchange connection {connection_id}", details={"connection_id": connection_id})


def check_venue(venue: str) -> None:
    if not is_supported(venue):
        raise field_invalid(
            "venue", f"{venue!r} is not a venue order-router supports (see exchange_venues_list)"
        )


class ConnectionsApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, access: VenueAccess) -> None:
        self._engine = engine
        self.store = ConnectionsStore(schema)
        self.accounts = AccountsStore(schema)
        self.access = access

    async def _owned(self, connection_id: str, user_id: str) -> Row[Any]:
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, connection_id, user_id)
        if row is None:
            raise no_connection(connection_id)
        return row

    async def _vet(
        self, venue: str, credentials: ApiCredentials, *, sandbox: bool, allow_withdrawal: bool
    ) -> Permissions:
        adapter = self.access.open_plain(venue, credentials, sandbox=sandbox)
        try:
            return await vet_new_key(adapter, allow_withdrawal=allow_withdrawal)
        finally:
            await adapter.close()

    async def venues(self, caller: CallerContext, body: ExchangeVenuesRequest) -> ExchangeVenues:
        del caller, body
        return ExchangeVenues(venues=list(supported_venues()))

    async def create(self, caller: CallerContext, body: ExchangeConnectionCreate) -> ExchangeConnectionInfo:
        user_id = require_user(caller)
        check_venue(body.venue)
        credentials = ApiCredentials(body.api_key, body.secret, body.passphrase or None)
        permissions = await self._vet(
            body.venue, credentials, sandbox=body.sandbox, allow_withdrawal=body.allow_withdrawal_permission
        )
        connection_id = uuid.UUID(new_event_id())
        sealed = seal(self.access.keyring, credentials, owner_id=user_id, connection_id=str(connection_id))
        async with self._engine().begin() as conn:
            row = await self.store.create(
                conn,
                connection_id=connection_id,
                user_id=user_id,
                venue=body.venue,
                label=body.label,
                sandbox=body.sandbox,
                sealed=sealed,
                api_key_last4=masked(body.api_key),
                permissions=permissions,
            )
        return connection_info(row)

    async def get(self, caller: CallerContext, body: ExchangeConnectionRef) -> ExchangeConnectionInfo:
        return connection_info(await self._owned(body.connection_id, require_user(caller)))

    async def list(
        self, caller: CallerContext, body: ExchangeConnectionListRequest
    ) -> ExchangeConnectionList:
        user_id = require_user(caller)
        before = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.store.page(conn, user_id, limit=fetch_size(body.limit), before=before)
        items, next_cursor = page_of(rows, body.limit, connection_info, lambda c: c.connection_id)
        return ExchangeConnectionList(items=items, next_cursor=next_cursor)

    async def update(self, caller: CallerContext, body: ExchangeConnectionUpdate) -> ExchangeConnectionInfo:
        """A new key needs both ``api_key`` and ``secret`` (and is vetted live like a new one)."""
        user_id = require_user(caller)
        row = await self._owned(body.connection_id, user_id)
        sandbox = row.sandbox if body.sandbox is None else body.sandbox
        new_key = body.api_key is not None or body.secret is not None or body.passphrase is not None
        credentials: ApiCredentials | None = None
        permissions: Permissions | None = None
        if new_key:
            for name in ("api_key", "secret"):
                if getattr(body, name) is None:
                    raise field_invalid(name, "a new key needs both api_key and secret")
            assert body.api_key is not None and body.secret is not None
            credentials = ApiCredentials(body.api_key, body.secret, body.passphrase or None)
            permissions = await self._vet(
                row.venue, credentials, sandbox=sandbox, allow_withdrawal=body.allow_withdrawal_permission
            )
        sealed = None
        if credentials is not None:
            sealed = seal(self.access.keyring, credentials, owner_id=user_id, connection_id=str(row.id))
        async with self._engine().begin() as conn:
            if await self.store.get(conn, body.connection_id, user_id, for_update=True) is None:
                raise no_connection(body.connection_id)  # deleted meanwhile
            updated = await self.store.update(
                conn,
                row.id,
                label=body.label if body.label is not None else row.label,
                sandbox=sandbox,
                sealed=sealed,
                api_key_last4=None if credentials is None else masked(credentials.api_key),
                permissions=permissions,
            )
        return connection_info(updated)

    async def delete(self, caller: CallerContext, body: ExchangeConnectionRef) -> ExchangeConnectionDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self.store.get(conn, body.connection_id, user_id, for_update=True)
            if row is None:
                raise no_connection(body.connection_id)
            if await self.store.in_use(conn, row.id):
                raise Conflict(
                    f"connection {body.connection_id} is used by an active exchange account: archive it first"
                )
            await self.store.delete(conn, row.id)
        return ExchangeConnectionDeleted(connection_id=str(row.id), deleted=True)

    async def test(self, caller: CallerContext, body: ExchangeConnectionRef) -> ExchangeConnectionTestResult:
        row = await self._owned(body.connection_id, require_user(caller))
        adapter = self.access.open_stored(row)
        try:
            check = await adapter.test_connection()
        finally:
            await adapter.close()
        permissions = check.permissions
        return ExchangeConnectionTestResult(
            connection_id=str(row.id),
            ok=check.ok,
            latency_ms=max(check.latency_ms, 0.0),
            answer=check.answer[:500],
            error_code=check.error_code,
            permissions=None
            if permissions is None
            else KeyPermissions(
                read=permissions.read, trade=permissions.trade, withdraw=permissions.withdraw
            ),
        )

    async def balances(
        self, caller: CallerContext, body: ExchangeConnectionRef
    ) -> ExchangeConnectionBalances:
        row = await self._owned(body.connection_id, require_user(caller))
        adapter = self.access.open_stored(row)
        try:
            balances = await adapter.fetch_balances()
        finally:
            await adapter.close()
        return ExchangeConnectionBalances(connection_id=str(row.id), balances=venue_balances(balances))

    async def create_account(self, caller: CallerContext, body: ExchangeAccountCreate) -> AccountInfo:
        """An exchange account on the caller's connection, starting from the venue's balances."""
        user_id = require_user(caller)
        row = await self._owned(body.connection_id, user_id)
        adapter = self.access.open_stored(row)
        try:
            balances = await adapter.fetch_balances()
        finally:
            await adapter.close()
        account_id = uuid.UUID(new_event_id())
        async with self._engine().begin() as conn:
            if await self.store.get(conn, body.connection_id, user_id, for_update=True) is None:
                raise no_connection(body.connection_id)  # deleted meanwhile
            account = await self.accounts.create_exchange(
                conn,
                account_id=account_id,
                user_id=user_id,
                name=body.name,
                venue=row.venue,
                connection_id=row.id,
                balances={b.asset: b.free for b in balances if b.free > 0},
            )
            details = {"connection_id": str(row.id), "venue": row.venue}
            await self.accounts.audit(conn, account_id, user_id, "create_exchange", details)
            return account_info(account, await self.accounts.balances(conn, account_id))
