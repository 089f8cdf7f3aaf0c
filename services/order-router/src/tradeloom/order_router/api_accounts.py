"""Paper account operations: create, get, list, balances, reset, archive, risk fail-open.

Every account belongs to the caller (``tl-user-id``); an unknown id and another user's id get the
same not_found answer. Reset, archive and the fail-open flag are written to ``account_audit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.store.rows import account_info, balance_list
from tradeloom.order_router.venue_wallets import VenueWallets
from tradeloom.shared.context import CallerContext
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
from tradeloom.shared.errors import Conflict, NotFound, ServiceError, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


def no_account(account_id: str) -> NotFound:
    """The one answer for an unknown account and for another user's."""
    return NotFound(f"no account {account_id}", details={"account_id": account_id})


def balances_map(balances: list[BalanceIn], field: str) -> dict[str, Decimal]:
    result: dict[str, Decimal] = {}
    for index, balance in enumerate(balances):
        if balance.asset in result:
            raise field_invalid(f"{field}.{index}.asset", f"{balance.asset} is listed twice")
        result[balance.asset] = balance.amount
    return result


class AccountsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], ledger: Ledger, wallets: VenueWallets | None = None
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.store = ledger.accounts
        self.wallets = wallets  # exchange accounts: the venue's wallets as last read

    async def _info(self, conn: AsyncConnection, row: Row[Any]) -> AccountInfo:
        return account_info(row, await self.store.balances(conn, row.id))

    async def _owned(
        self, conn: AsyncConnection, account_id: str, user_id: str, *, lock: bool = False
    ) -> Row[Any]:
        row = await self.store.get(conn, account_id, user_id, for_update=lock)
        if row is None:
            raise no_account(account_id)
        return row

    async def create(self, caller: CallerContext, body: PaperAccountCreate) -> AccountInfo:
        user_id = require_user(caller)
        balances = balances_map(body.balances, "balances")
        fields = {
            "name": body.name,
            "venue": body.venue,
            "maker": body.maker_fee_rate,
            "taker": body.taker_fee_rate,
            "slippage_model": body.slippage_model,
            "slippage": body.slippage,
            "queue_position": body.queue_position,
        }
        async with self._engine().begin() as conn:
            row = await self.store.create(
                conn, account_id=uuid.UUID(new_event_id()), user_id=user_id, fields=fields, balances=balances
            )
            await self.store.audit(conn, row.id, user_id, "create", {"balances": balances})
            return await self._info(conn, row)

    async def get(self, caller: CallerContext, body: AccountRef) -> AccountInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            return await self._info(conn, await self._owned(conn, body.account_id, user_id))

    async def balances(self, caller: CallerContext, body: AccountRef) -> BalancesReply:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self._owned(conn, body.account_id, user_id)
            rows = await self.store.balances(conn, row.id)
        wallets = self.wallets.of(row.id) if self.wallets is not None and row.kind == "exchange" else None
        return BalancesReply(account_id=str(row.id), balances=balance_list(rows), wallets=wallets)

    async def list(self, caller: CallerContext, body: AccountListRequest) -> AccountList:
        user_id = require_user(caller)
        before = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.store.page(
                conn,
                user_id,
                include_archived=body.include_archived,
                limit=fetch_size(body.limit),
                before=before,
            )
            page, next_cursor = page_of(rows, body.limit, lambda row: row, lambda row: str(row.id))
            items = [await self._info(conn, row) for row in page]
        return AccountList(items=items, next_cursor=next_cursor)

    async def _cancel_open(self, conn: AsyncConnection, account_id: uuid.UUID, reason: str) -> None:
        for order in await self.ledger.orders.open_orders(conn, account_id=account_id):
            await self.ledger.finish(conn, order, states.CANCELED, reason)

    async def reset(self, caller: CallerContext, body: AccountReset) -> AccountInfo:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._owned(conn, body.account_id, user_id, lock=True)
            if row.status != "active":
                raise Conflict(f"account {body.account_id} is archived")
            if row.kind == "exchange":
                raise Conflict("an exchange account's balances are the venue's: it cannot be reset")
            if body.balances is not None:
                balances = balances_map(body.balances, "balances")
            else:
                balances = {asset: Decimal(amount) for asset, amount in row.initial_balances.items()}
            await self._cancel_open(conn, row.id, "account_reset")
            await self.store.set_balances(conn, row.id, balances)
            await self.store.update(conn, row.id)
            await self.store.audit(conn, row.id, user_id, "reset", {"balances": balances})
            return await self._info(conn, await self._owned(conn, body.account_id, user_id))

    async def archive(self, caller: CallerContext, body: AccountRef) -> AccountInfo:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._owned(conn, body.account_id, user_id, lock=True)
            if row.kind == "exchange" and await self.ledger.orders.unfinished(conn, row.id):
                raise Conflict("cancel the exchange account's open orders at its venue first")
            if row.status == "active":
                await self._cancel_open(conn, row.id, "account_archived")
                await self.store.update(conn, row.id, status="archived")
                await self.store.audit(conn, row.id, user_id, "archive", {})
            return await self._info(conn, await self._owned(conn, body.account_id, user_id))

    async def risk_fail_open(self, caller: CallerContext, body: AccountRiskFailOpen) -> AccountInfo:
        """Admins only (``tl-roles`` contains ``admin``); any account, audited with the reason."""
        admin = require_user(caller)
        if "admin" not in caller.roles:
            raise Forbidden("only an admin may change the risk fail-open flag")
        async with self._engine().begin() as conn:
            row = await self.store.get(conn, body.account_id, None, for_update=True)
            if row is None:
                raise no_account(body.account_id)
            await self.store.update(conn, row.id, risk_fail_open=body.fail_open)
            details = {"fail_open": body.fail_open, "reason": body.reason}
            await self.store.audit(conn, row.id, admin, "risk_fail_open", details)
            updated = await self.store.get(conn, body.account_id, None)
            assert updated is not None
            return await self._info(conn, updated)
