"""The submit path's statements, each folding what used to be several round trips into one.

- ``view``: before any transaction, the caller's account with its halt, the id of an order an
  earlier submission made with the same client id or idempotency key, the symbol's last trade
  price and the free balances (was: account, existing order, then halt, last price and balances in
  the writing transaction). Halt, price and balances read a few milliseconds early change nothing
  the writing transaction relies on: the accepting transaction reads the halt again under the
  order's lock, and the lock statement checks the free amount itself.
- ``insert_locked``: the order row (``ON CONFLICT DO NOTHING``) and its funds lock in one statement
  (a lock that does not fit leaves the caller to raise, rolling the insert back).
- ``for_accept``: the pending order ``FOR UPDATE`` with the halt that applies to it now.
- ``for_accept_many`` / ``update_many``: a batch's acceptance (``orders_batch``): its orders
  locked and read in one statement, those accepted alike moved in one.
- ``drop``: an order just inserted whose lock did not fit, deleted in its transaction (a batch's
  orders share one transaction, so one order's refusal cannot roll it back).

- ``views``: the views of a batch's orders (``orders_batch``) in one statement; ``prefetched``
  makes ``view`` answer from them inside the batch (the submit path reads its view as for one
  order, without a statement each).

``autocommit``: a connection for the reads outside the writing transactions, each one statement
(its own snapshot), so they need no BEGIN and ROLLBACK round trips.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.store.accounts_store import ACCOUNT_COLUMNS
from tradeloom.order_router.store.orders_store import ORDER_COLUMNS, order_update
from tradeloom.order_router.store.sql import sql
from tradeloom.shared.db import check_schema_name


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection outside any transaction (asyncpg sends no BEGIN in AUTOCOMMIT)."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


def halt_sql(schema: str, user: str, account: str) -> str:
    """A scalar subquery: ``"<scope> halt: <reason>"`` of the halt that stops ``user`` on
    ``account`` (global, the user's own, the account's emergency stop; ``OrdersStore.halt_reason``'s
    order), or NULL. ``user`` and ``account`` are SQL expressions of text."""
    return (
        f"(SELECT h.scope || ' halt: ' || h.reason FROM \"{schema}\".halts h WHERE h.scope = 'global' "
        f"OR (h.scope = 'user' AND h.user_key = {user}) "
        f"OR (h.scope = 'account' AND h.user_key = {account}) ORDER BY h.scope LIMIT 1)"
    )


def halt_text(value: str | None) -> str | None:
    """The halt reason as ``OrdersStore.halt_reason`` words it (no trailing ": " for no reason)."""
    return None if value is None else value.rstrip(": ")


ViewKey = tuple[uuid.UUID, str, str, str | None, str]  # account, user, client id, idempotency key, symbol
Views = dict[ViewKey, "SubmitView | None"]
_PREFETCHED: ContextVar[Views | None] = ContextVar("prefetched_views", default=None)


@dataclass(frozen=True)
class SubmitView:
    account: Row[Any]
    halted: str | None
    existing: bool  # an earlier submission stored an order with this client id or key
    last_price: Decimal | None  # of the symbol as submitted, on the account's venue
    free: dict[str, Decimal]


def view_of(row: Row[Any] | None) -> SubmitView | None:
    if row is None:
        return None
    return SubmitView(
        account=row,
        halted=halt_text(row.halted),
        existing=row.existing,
        last_price=None if row.last_price is None else Decimal(row.last_price),
        free={asset: Decimal(free) for asset, free in zip(row.balance_assets, row.balance_free, strict=True)},
    )


class SubmitReads:
    def __init__(self, schema: str) -> None:
        self.s = s = check_schema_name(schema)
        account_columns = ", ".join(f"a.{name}" for name in ACCOUNT_COLUMNS.split(", "))

        def view_columns(account: str, cid: str, key: str, symbol: str) -> str:
            """What a submit needs of an account (``SubmitView``), the order's values as SQL."""
            return (
                f"{account_columns}, {halt_sql(s, ':user', account)} AS halted, "
                f'EXISTS (SELECT 1 FROM "{s}".orders o WHERE o.account_id = a.id '
                f"AND (o.client_order_id = {cid} OR o.idempotency_key = {key})) AS existing, "
                f'(SELECT p.price FROM "{s}".last_prices p WHERE p.venue = a.venue AND p.symbol = {symbol}) '
                "AS last_price, "
                f'ARRAY(SELECT b.asset FROM "{s}".balances b WHERE b.account_id = a.id ORDER BY b.asset) '
                "AS balance_assets, "
                f'ARRAY(SELECT b.free FROM "{s}".balances b WHERE b.account_id = a.id ORDER BY b.asset) '
                "AS balance_free "
            )

        self._view = text(
            f"SELECT {view_columns(':account_text', ':cid', ':key', ':symbol')}"
            f'FROM "{s}".accounts a WHERE a.id = :account AND a.user_id = :user'
        )
        self._views = text(
            f"SELECT w.n, {view_columns('CAST(w.account AS text)', 'w.cid', 'w.key', 'w.symbol')}"
            "FROM unnest(CAST(:accounts AS uuid[]), CAST(:cids AS text[]), CAST(:keys AS text[]), "
            "CAST(:symbols AS text[])) WITH ORDINALITY AS w(account, cid, key, symbol, n) "
            f'JOIN "{s}".accounts a ON a.id = w.account AND a.user_id = :user'
        )
        order_halted = (
            f"SELECT {ORDER_COLUMNS}, {halt_sql(s, 'o.user_id', 'CAST(o.account_id AS text)')} AS halted "
            f'FROM "{s}".orders o '
        )
        self._for_accept = text(f"{order_halted}WHERE o.id = :id FOR UPDATE OF o")
        self._for_accept_many = text(
            f"{order_halted}WHERE o.id = ANY(CAST(:ids AS uuid[])) ORDER BY o.id FOR UPDATE OF o"
        )

    async def view(
        self,
        conn: AsyncConnection,
        account_id: uuid.UUID,
        user_id: str,
        *,
        cid: str,
        key: str | None,
        symbol: str,
    ) -> SubmitView | None:
        """The account if it is ``user_id``'s, with what the submit needs of it (one statement)."""
        prefetched = _PREFETCHED.get()
        wanted: ViewKey = (account_id, user_id, cid, key, symbol)
        if prefetched is not None and wanted in prefetched:
            return prefetched[wanted]
        params = {"account": account_id, "account_text": str(account_id), "user": user_id,
                  "cid": cid, "key": key, "symbol": symbol}  # fmt: skip
        return view_of((await conn.execute(self._view, params)).first())

    async def views(
        self, conn: AsyncConnection, user_id: str, wanted: Sequence[tuple[uuid.UUID, str, str | None, str]]
    ) -> dict[ViewKey, SubmitView | None]:
        """``view`` of several orders of ``user_id`` ((account, client id, key, symbol) each) in one
        statement; an account that is not the user's is ``None``, as ``view`` answers it."""
        if not wanted:
            return {}
        accounts, cids, keys, symbols = (list(column) for column in zip(*wanted, strict=True))
        params = {"user": user_id, "accounts": accounts, "cids": cids, "keys": keys, "symbols": symbols}
        result = await conn.execute(self._views, params)
        found = {row.n: view_of(row) for row in result}
        return {
            (account, user_id, cid, key, symbol): found.get(n)
            for n, (account, cid, key, symbol) in enumerate(wanted, start=1)
        }

    @staticmethod
    @contextmanager
    def prefetched(views: dict[ViewKey, SubmitView | None]) -> Iterator[None]:
        """Within this block (this task and those it starts), ``view`` answers these from memory."""
        token = _PREFETCHED.set(views)
        try:
            yield
        finally:
            _PREFETCHED.reset(token)

    async def insert_locked(
        self, conn: AsyncConnection, values: dict[str, Any]
    ) -> tuple[Row[Any] | None, bool]:
        """Insert the order (``None`` when its client id or key exists: nothing written) and move
        ``values["locked"]`` of ``values["lock_asset"]`` from free to locked; the flag is False
        when not enough was free (the caller raises, so the transaction rolls the insert back)."""
        columns = ", ".join(values)
        params = ", ".join(f":{name}" for name in values)
        result = await conn.execute(
            sql(
                f'WITH ins AS (INSERT INTO "{self.s}".orders ({columns}) VALUES ({params}) '
                f"ON CONFLICT DO NOTHING RETURNING {ORDER_COLUMNS}), "
                f'lk AS (UPDATE "{self.s}".balances SET free = free - :locked, locked = locked + :locked '
                "WHERE account_id = :account_id AND asset = :lock_asset AND free >= :locked "
                "AND EXISTS (SELECT 1 FROM ins) RETURNING 1) "
                "SELECT ins.*, EXISTS (SELECT 1 FROM lk) AS lock_taken FROM ins"
            ),
            values,
        )
        row = result.first()
        return (None, False) if row is None else (row, bool(row.lock_taken))

    async def for_accept(
        self, conn: AsyncConnection, order_id: uuid.UUID
    ) -> tuple[Row[Any] | None, str | None]:
        """The order locked ``FOR UPDATE`` and the halt that stops its user on its account now."""
        row = (await conn.execute(self._for_accept, {"id": order_id})).first()
        return (None, None) if row is None else (row, halt_text(row.halted))

    async def for_accept_many(
        self, conn: AsyncConnection, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Row[Any], str | None]]:
        """``for_accept`` of a batch's orders in one statement, locked in id order (as every
        writer locks several orders), each with the halt that applies to it now."""
        result = await conn.execute(self._for_accept_many, {"ids": list(order_ids)})
        return {row.id: (row, halt_text(row.halted)) for row in result}

    async def update_many(
        self, conn: AsyncConnection, order_ids: Sequence[uuid.UUID], fields: dict[str, Any]
    ) -> list[Row[Any]]:
        """``OrdersStore.update`` of several orders with the same ``fields`` in one statement; the
        rows in the order of ``order_ids``."""
        update = order_update(self.s, fields, "id = ANY(CAST(:ids AS uuid[]))")
        result = await conn.execute(update, {"ids": list(order_ids), **fields})
        by_id = {row.id: row for row in result}
        return [by_id[order_id] for order_id in order_ids]

    async def drop(self, conn: AsyncConnection, order_id: uuid.UUID) -> None:
        """Delete an order inserted in this transaction (its lock was not taken: nothing else to undo)."""
        await conn.execute(text(f'DELETE FROM "{self.s}".orders WHERE id = :id'), {"id": order_id})
