"""The ``orders``, ``fills``, ``halts`` and ``last_prices`` tables.

Orders are inserted with ``ON CONFLICT DO NOTHING`` on (account, client_order_id) and the
idempotency key, so a retried submission finds the original row instead of making a second one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, TextClause
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.store.sql import sql
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

ORDER_COLUMNS = (
    "id, account_id, user_id, client_order_id, idempotency_key, venue, symbol, base_asset, quote_asset, "
    "lot_size, "
    "side, type, status, quantity, filled_quantity, filled_notional, price, stop_price, trailing_amount, "
    "trailing_percent, trail_extreme, triggered, time_in_force, expire_at, post_only, reduce_only, "
    "reference_price, lock_asset, locked, fees, reject_reason, accepted_ns, created_at, updated_at, "
    "stop_loss_price, take_profit_price, parent_id, oco_group, venue_order_id, queue_ahead, flatten_id, "
    "leverage, contract_size, traceparent, margin_mode, position_side, trailing_stop_amount, "
    "trailing_stop_percent"
)
FILL_COLUMNS = (
    "id, order_id, account_id, user_id, venue, venue_fill_id, symbol, side, price, quantity, fee, fee_asset, "
    "liquidity, trade_id, filled_at"
)
OPEN = tuple(sorted(states.OPEN))
# market orders with a trade price at submit: their fills measure slippage
SLIPPAGE_ROWS = "reference_price IS NOT NULL AND type = 'market'"
# orders of paper accounts only: the paper matcher and the housekeeping sweeps never touch an
# exchange account's orders (the venue and reconciliation decide those)
PAPER_ONLY = "account_id IN (SELECT id FROM \"{s}\".accounts WHERE kind = 'paper')"
# optional filters of the list queries: parameter → (its SQL type, the condition when it is given)
ORDER_FILTERS = {
    "account": ("uuid", "account_id = :account"),
    "symbol": ("text", "symbol = :symbol"),
    "statuses": ("text[]", "status = ANY(:statuses)"),
    "side": ("text", "side = :side"),
    "type": ("text", "type = :type"),
    "since": ("timestamptz", "created_at >= :since"),
    "until": ("timestamptz", "created_at < :until"),
    "before": ("uuid", "id < :before"),  # the cursor: ids are UUIDv7, so id order is time order
}
FILL_FILTERS = {
    "account": ORDER_FILTERS["account"],
    "order": ("uuid", "order_id = :order"),
    "symbol": ORDER_FILTERS["symbol"],
    "before": ORDER_FILTERS["before"],
}


def optional_filters(filters: dict[str, tuple[str, str]]) -> str:
    """``AND`` clauses each true when its parameter is NULL (one statement text for every mix)."""
    return " ".join(
        f"AND (CAST(:{name} AS {kind}) IS NULL OR {condition})" for name, (kind, condition) in filters.items()
    )


def newest_first(schema: str, table: str, columns: str, filters: dict[str, tuple[str, str]]) -> str:
    """The user's rows of ``table``, newest first, ``LIMIT :limit``, with the optional ``filters``."""
    return (
        f'SELECT {columns} FROM "{schema}".{table} WHERE user_id = :user {optional_filters(filters)} '
        "ORDER BY id DESC LIMIT :limit"
    )


UPDATABLE = frozenset(
    {"status", "filled_quantity", "filled_notional", "locked", "fees", "reject_reason", "triggered",
     "trail_extreme", "price", "stop_price", "quantity", "accepted_ns", "venue_order_id", "queue_ahead"}
)  # fmt: skip


def order_update(schema: str, fields: dict[str, Any], where: str) -> TextClause:
    """``UPDATE`` of the orders ``where`` selects: ``fields`` (``UPDATABLE`` columns only, bound by
    name) and ``updated_at``, returning each order's columns."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets = ", ".join(f"{name} = :{name}" for name in fields)
    return sql(
        f'UPDATE "{schema}".orders SET {sets}, updated_at = now() WHERE {where} RETURNING {ORDER_COLUMNS}'
    )


class OrdersStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Row[Any] | None:
        """The new order, or ``None`` when (account, client_order_id) or the key already exists."""
        columns = ", ".join(values)
        params = ", ".join(f":{name}" for name in values)
        result = await conn.execute(
            sql(
                f'INSERT INTO "{self.s}".orders ({columns}) VALUES ({params}) '
                f"ON CONFLICT DO NOTHING RETURNING {ORDER_COLUMNS}"
            ),
            values,
        )
        return result.first()

    async def find_existing(
        self, conn: AsyncConnection, account_id: uuid.UUID, client_order_id: str | None, key: str | None
    ) -> Row[Any] | None:
        """The order an earlier submission made with the same client id or idempotency key."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE account_id = :account '
                "AND (client_order_id = :cid OR idempotency_key = :key) ORDER BY id LIMIT 1"
            ),
            {"account": account_id, "cid": client_order_id, "key": key},
        )
        return result.first()

    async def get(
        self, conn: AsyncConnection, order_id: str, user_id: str | None, *, for_update: bool = False
    ) -> Row[Any] | None:
        key = parse_uuid(order_id)
        if key is None:
            return None
        lock = " FOR UPDATE" if for_update else ""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE id = :id '
                f"AND (CAST(:user AS text) IS NULL OR user_id = :user){lock}"
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def open_orders(
        self,
        conn: AsyncConnection,
        *,
        venue: str | None = None,
        symbol: str | None = None,
        account_id: uuid.UUID | None = None,
        user_id: str | None = None,
        paper_only: bool = False,
    ) -> list[Row[Any]]:
        """Open orders (locked FOR UPDATE, oldest first) matching every filter given."""
        paper = f" AND {PAPER_ONLY.format(s=self.s)}" if paper_only else ""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE status = ANY(:open){paper} '
                "AND (CAST(:venue AS text) IS NULL OR venue = :venue) "
                "AND (CAST(:symbol AS text) IS NULL OR symbol = :symbol) "
                "AND (CAST(:account AS uuid) IS NULL OR account_id = :account) "
                "AND (CAST(:user AS text) IS NULL OR user_id = :user) ORDER BY id FOR UPDATE"
            ),
            {"open": list(OPEN), "venue": venue, "symbol": symbol, "account": account_id, "user": user_id},
        )
        return list(result.all())

    async def closing_open(
        self, conn: AsyncConnection, account_id: uuid.UUID, symbol: str, position_side: str, side: str
    ) -> Decimal:
        """Contracts still to fill on the account's unfinished orders on ``side`` of ``symbol``
        naming ``position_side`` (hedge mode: the other orders already closing that position)."""
        result = await conn.execute(
            sql(
                f'SELECT coalesce(sum(quantity - filled_quantity), 0) FROM "{self.s}".orders '
                "WHERE account_id = :account AND symbol = :symbol AND position_side = :ps AND side = :side "
                "AND status = ANY(:open)"
            ),
            {
                "account": account_id,
                "symbol": symbol,
                "ps": position_side,
                "side": side,
                "open": [*OPEN, states.PENDING_NEW],
            },
        )
        return Decimal(result.scalar_one())

    async def unfinished(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        """Orders of the account that are not final (pending_new included), oldest first."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE account_id = :account '
                "AND status <> ALL(:final) ORDER BY id"
            ),
            {"account": account_id, "final": sorted(states.TERMINAL)},
        )
        return list(result.all())

    async def pending_legs(self, conn: AsyncConnection, parent_id: uuid.UUID) -> list[Row[Any]]:
        """A bracket entry's exits not sent to the venue yet (``pending_new``)."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE parent_id = :parent '
                "AND status = :pending ORDER BY id"
            ),
            {"parent": parent_id, "pending": states.PENDING_NEW},
        )
        return list(result.all())

    async def pair_ended(self, conn: AsyncConnection, row: Row[Any]) -> bool:
        """The other exit of ``row``'s OCO pair has ended or is being cancelled."""
        result = await conn.execute(
            sql(
                f'SELECT 1 FROM "{self.s}".orders WHERE oco_group = :group AND id <> :id '
                "AND (status = ANY(:final) OR status = :pending) LIMIT 1"
            ),
            {"group": row.oco_group, "id": row.id, "final": sorted(states.TERMINAL),
             "pending": states.PENDING_CANCEL},
        )  # fmt: skip
        return result.first() is not None

    async def oco_pending_cancels(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        """The account's OCO exits waiting for the venue to confirm their cancel."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE account_id = :account '
                "AND status = :pending AND oco_group IS NOT NULL ORDER BY id"
            ),
            {"account": account_id, "pending": states.PENDING_CANCEL},
        )
        return list(result.all())

    async def by_client_id(
        self, conn: AsyncConnection, account_id: uuid.UUID, client_order_id: str
    ) -> Row[Any] | None:
        """The account's order with this client id, locked FOR UPDATE."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE account_id = :account '
                "AND client_order_id = :cid FOR UPDATE"
            ),
            {"account": account_id, "cid": client_order_id},
        )
        return result.first()

    async def venue_fill_ids(self, conn: AsyncConnection, account_id: uuid.UUID) -> set[str]:
        result = await conn.execute(
            sql(f'SELECT venue_fill_id FROM "{self.s}".fills WHERE account_id = :account'),
            {"account": account_id},
        )
        return {row.venue_fill_id for row in result.all()}

    async def open_siblings(self, conn: AsyncConnection, row: Row[Any]) -> list[Row[Any]]:
        """The other open orders of ``row``'s OCO group."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE oco_group = :group AND id <> :id '
                "AND status = ANY(:open) ORDER BY id FOR UPDATE"
            ),
            {"group": row.oco_group, "id": row.id, "open": list(OPEN)},
        )
        return list(result.all())

    async def stale_pending(self, conn: AsyncConnection, older_than: datetime) -> list[Row[Any]]:
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE status = :pending '
                f"AND created_at < :older AND {PAPER_ONLY.format(s=self.s)} "
                "ORDER BY id FOR UPDATE SKIP LOCKED"
            ),
            {"pending": states.PENDING_NEW, "older": older_than},
        )
        return list(result.all())

    async def expired_open(self, conn: AsyncConnection, now: datetime) -> list[Row[Any]]:
        """Open GTD orders whose expiry has passed (skipping rows another transaction holds)."""
        result = await conn.execute(
            sql(
                f'SELECT {ORDER_COLUMNS} FROM "{self.s}".orders WHERE status = ANY(:open) '
                f"AND expire_at IS NOT NULL AND expire_at <= :now AND {PAPER_ONLY.format(s=self.s)} "
                "ORDER BY id FOR UPDATE SKIP LOCKED"
            ),
            {"open": list(OPEN), "now": now},
        )
        return list(result.all())

    async def update(self, conn: AsyncConnection, order_id: uuid.UUID, fields: dict[str, Any]) -> Row[Any]:
        result = await conn.execute(order_update(self.s, fields, "id = :id"), {"id": order_id, **fields})
        return result.one()

    async def page(
        self, conn: AsyncConnection, user_id: str, filters: dict[str, Any], limit: int
    ) -> list[Row[Any]]:
        """Newest first; ``filters``: account, symbol, statuses, side, type, since, until, before."""
        statement = newest_first(self.s, "orders", ORDER_COLUMNS, ORDER_FILTERS)
        params = dict.fromkeys(ORDER_FILTERS) | filters
        result = await conn.execute(sql(statement), {"user": user_id, "limit": limit, **params})
        return list(result.all())

    async def insert_fill(self, conn: AsyncConnection, values: dict[str, Any]) -> Row[Any] | None:
        """The new fill, or ``None`` when (venue, venue_fill_id) is already recorded."""
        columns = ", ".join(values)
        params = ", ".join(f":{name}" for name in values)
        result = await conn.execute(
            sql(
                f'INSERT INTO "{self.s}".fills ({columns}) VALUES ({params}) '
                f"ON CONFLICT (venue, venue_fill_id) DO NOTHING RETURNING {FILL_COLUMNS}"
            ),
            values,
        )
        return result.first()

    async def fills(
        self,
        conn: AsyncConnection,
        user_id: str,
        *,
        account_id: uuid.UUID | None = None,
        order_id: uuid.UUID | None = None,
        symbol: str | None = None,
        before: uuid.UUID | None = None,
        limit: int = 1000,
    ) -> list[Row[Any]]:
        """Newest first, filtered by whichever of account, order, symbol and cursor are given."""
        statement = newest_first(self.s, "fills", FILL_COLUMNS, FILL_FILTERS)
        params = {"account": account_id, "order": order_id, "symbol": symbol, "before": before}
        result = await conn.execute(sql(statement), {"user": user_id, "limit": limit, **params})
        return list(result.all())

    async def stats_rows(
        self, conn: AsyncConnection, user_id: str, account_id: uuid.UUID | None, since: Any, until: Any
    ) -> list[Row[Any]]:
        """Per (status, type): count, quantity, filled quantity, filled notional, fees and the
        reference-priced notional of the filled part (for slippage), with the quote asset."""
        result = await conn.execute(
            sql(
                "SELECT status, type, side, quote_asset, count(*) AS n, sum(quantity) AS qty, "
                "sum(filled_quantity) AS filled, sum(filled_notional) AS notional, sum(fees) AS fees, "
                f"sum(filled_quantity * reference_price) FILTER (WHERE {SLIPPAGE_ROWS}) AS ref_notional, "
                f"sum(filled_notional) FILTER (WHERE {SLIPPAGE_ROWS}) AS ref_filled "
                f'FROM "{self.s}".orders WHERE user_id = :user '
                f"{optional_filters({k: ORDER_FILTERS[k] for k in ('account', 'since', 'until')})} "
                "GROUP BY status, type, side, quote_asset"
            ),
            {"user": user_id, "account": account_id, "since": since, "until": until},
        )
        return list(result.all())

    # --- halts and last prices -------------------------------------------------------------
    async def set_halt(
        self, conn: AsyncConnection, scope: str, user: str, reason: str, event_id: str
    ) -> None:
        await conn.execute(
            sql(
                f'INSERT INTO "{self.s}".halts (scope, user_key, reason, event_id) '
                "VALUES (:scope, :user, :reason, :event) ON CONFLICT (scope, user_key) "
                "DO UPDATE SET reason = :reason, event_id = :event, created_at = now()"
            ),
            {"scope": scope, "user": user, "reason": reason, "event": event_id},
        )

    async def clear_halt(self, conn: AsyncConnection, scope: str, user: str) -> None:
        await conn.execute(
            sql(f'DELETE FROM "{self.s}".halts WHERE scope = :scope AND user_key = :user'),
            {"scope": scope, "user": user},
        )

    async def halt_reason(
        self, conn: AsyncConnection, user_id: str, account_id: uuid.UUID | str | None = None
    ) -> str | None:
        """Why ``user_id`` may not trade now on ``account_id`` (a global halt, their own, or the
        account's emergency stop), or ``None``."""
        result = await conn.execute(
            sql(
                f"SELECT scope, reason FROM \"{self.s}\".halts WHERE scope = 'global' "
                "OR (scope = 'user' AND user_key = :user) "
                "OR (scope = 'account' AND user_key = :account) ORDER BY scope LIMIT 1"
            ),
            {"user": user_id, "account": "" if account_id is None else str(account_id)},
        )
        row = result.first()
        return None if row is None else f"{row.scope} halt: {row.reason}".rstrip(": ")

    async def last_price(self, conn: AsyncConnection, venue: str, symbol: str) -> Decimal | None:
        result = await conn.execute(
            sql(f'SELECT price FROM "{self.s}".last_prices WHERE venue = :venue AND symbol = :symbol'),
            {"venue": venue, "symbol": symbol},
        )
        value = result.scalar_one_or_none()
        return None if value is None else Decimal(value)
