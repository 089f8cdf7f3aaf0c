"""What the paper exchange's batched fills read and write: one statement each for all the orders,
fills and balances of a batch of market trades (``paper_fills.PlainFills``).

The per-order path (``Ledger.record_fill`` and ``Ledger.move``) writes the same rows one order at a
time; these statements take whole lists as arrays (``unnest``), so their cost does not grow with
the statement count of a burst.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.store.orders_store import FILL_COLUMNS, ORDER_COLUMNS
from tradeloom.order_router.store.sql import sql
from tradeloom.shared.db import check_schema_name

# the order columns a fill changes, with their SQL types (the values travel as typed arrays)
FILLED_COLUMNS = {
    "status": "text",
    "filled_quantity": "numeric",
    "filled_notional": "numeric",
    "locked": "numeric",
    "fees": "numeric",
    "reject_reason": "text",
    "triggered": "boolean",
    "trail_extreme": "numeric",
    "queue_ahead": "numeric",
}
FILL_TYPES = {
    "id": "uuid", "order_id": "uuid", "account_id": "uuid", "user_id": "text", "venue": "text",
    "venue_fill_id": "text", "symbol": "text", "side": "text", "price": "numeric",
    "quantity": "numeric", "fee": "numeric", "fee_asset": "text", "liquidity": "text",
    "trade_id": "text", "filled_at": "timestamptz",
}  # fmt: skip
BALANCE_TYPES = {"account_id": "uuid", "asset": "text", "free": "numeric", "locked": "numeric"}


def _unnest(types: Mapping[str, str]) -> str:
    """``unnest(CAST(:a AS t[]), …) AS v(a, …)`` of the named typed arrays."""
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in types.items())
    return f"unnest({arrays}) AS v({', '.join(types)})"


class PaperFillWrites:
    def __init__(self, schema: str) -> None:
        self.s = s = check_schema_name(schema)
        self._lock = (
            f'SELECT {ORDER_COLUMNS} FROM "{s}".orders WHERE id = ANY(CAST(:ids AS uuid[])) '
            "ORDER BY id FOR UPDATE"
        )
        self._recorded = (
            f'SELECT venue_fill_id FROM "{s}".fills WHERE order_id = ANY(CAST(:orders AS uuid[])) '
            "AND trade_id = ANY(CAST(:trades AS text[]))"
        )
        columns = ", ".join(FILL_TYPES)
        self._insert_fills = (
            f'INSERT INTO "{s}".fills ({columns}) SELECT {columns} FROM {_unnest(FILL_TYPES)} '
            f"ON CONFLICT (venue, venue_fill_id) DO NOTHING RETURNING {FILL_COLUMNS}"
        )
        sets = ", ".join(f"{name} = v.{name}" for name in FILLED_COLUMNS)
        self._update_orders = (
            f'UPDATE "{s}".orders AS o SET {sets}, updated_at = now() '
            f"FROM {_unnest({'id': 'uuid', **FILLED_COLUMNS})} WHERE o.id = v.id "
            f"RETURNING {', '.join('o.' + c.strip() for c in ORDER_COLUMNS.split(','))}"
        )
        self._balances = (
            f'UPDATE "{s}".balances AS b SET free = b.free + v.free, locked = b.locked + v.locked '
            f"FROM {_unnest(BALANCE_TYPES)} "
            "WHERE b.account_id = v.account_id AND b.asset = v.asset RETURNING b.account_id, b.asset"
        )

    async def lock(self, conn: AsyncConnection, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
        """The orders locked ``FOR UPDATE`` in id order (as every writer of several orders locks)."""
        result = await conn.execute(sql(self._lock), {"ids": sorted(order_ids)})
        return {row.id: row for row in result}

    async def recorded(
        self, conn: AsyncConnection, order_ids: Sequence[uuid.UUID], trade_ids: Sequence[str]
    ) -> set[str]:
        """The venue fill ids already stored for these orders and trades (a trade seen before)."""
        result = await conn.execute(
            sql(self._recorded), {"orders": list(order_ids), "trades": list(trade_ids)}
        )
        return {row.venue_fill_id for row in result}

    async def insert_fills(
        self, conn: AsyncConnection, fills: Sequence[Mapping[str, Any]]
    ) -> dict[str, Row[Any]]:
        """The new fills by venue fill id (one already recorded is left out: ``ON CONFLICT``)."""
        params = {name: [fill[name] for fill in fills] for name in FILL_TYPES}
        result = await conn.execute(sql(self._insert_fills), params)
        return {row.venue_fill_id: row for row in result}

    async def update_orders(
        self, conn: AsyncConnection, changes: Mapping[uuid.UUID, Mapping[str, Any]]
    ) -> dict[uuid.UUID, Row[Any]]:
        """Each order's ``FILLED_COLUMNS`` set to its values in ``changes`` (all of them given)."""
        ids = list(changes)
        params: dict[str, Any] = {"id": ids}
        for name in FILLED_COLUMNS:
            params[name] = [changes[order_id][name] for order_id in ids]
        result = await conn.execute(sql(self._update_orders), params)
        return {row.id: row for row in result}

    async def add_to_balances(
        self, conn: AsyncConnection, changes: Mapping[tuple[uuid.UUID, str], tuple[Decimal, Decimal]]
    ) -> set[tuple[uuid.UUID, str]]:
        """Add (free, locked) to each (account, asset) balance; returns those that exist (the
        caller creates the others, as ``AccountsStore.apply`` does). The keys go in sorted, so the
        rows are locked in one order (a small list is joined row by row through the primary key)."""
        keys = sorted(changes)
        params = {
            "account_id": [account for account, _ in keys],
            "asset": [asset for _, asset in keys],
            "free": [changes[key][0] for key in keys],
            "locked": [changes[key][1] for key in keys],
        }
        result = await conn.execute(sql(self._balances), params)
        return {(row.account_id, row.asset) for row in result}
