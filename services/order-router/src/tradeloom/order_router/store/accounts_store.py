"""The ``accounts``, ``balances`` and ``account_audit`` tables.

Balances change only through ``lock``/``release``/``apply`` in the caller's transaction; the
``CHECK (free >= 0)`` constraints make an overdraft a failed transaction, never a silent one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.store.sql import sql
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

ACCOUNT_COLUMNS = (
    "id, user_id, name, kind, venue, status, maker_fee_rate, taker_fee_rate, slippage_model, slippage, "
    "risk_fail_open, initial_balances, created_at, updated_at, connection_id, venue_fills_since_ms, "
    "queue_position"
)


class AccountsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(
        self,
        conn: AsyncConnection,
        *,
        account_id: uuid.UUID,
        user_id: str,
        fields: dict[str, Any],
        balances: dict[str, Decimal],
    ) -> Row[Any]:
        row = (
            await conn.execute(
                sql(
                    f'INSERT INTO "{self.s}".accounts (id, user_id, name, venue, maker_fee_rate, '
                    "taker_fee_rate, slippage_model, slippage, queue_position, initial_balances) VALUES "
                    "(:id, :user, :name, :venue, :maker, :taker, :slippage_model, :slippage, "
                    ":queue_position, CAST(:initial AS jsonb)) "
                    f"RETURNING {ACCOUNT_COLUMNS}"
                ),
                {
                    "id": account_id,
                    "user": user_id,
                    **fields,
                    "initial": json.dumps({asset: str(amount) for asset, amount in balances.items()}),
                },
            )
        ).one()
        await self.set_balances(conn, account_id, balances)
        return row

    async def create_exchange(
        self,
        conn: AsyncConnection,
        *,
        account_id: uuid.UUID,
        user_id: str,
        name: str,
        venue: str,
        connection_id: uuid.UUID,
        balances: dict[str, Decimal],
    ) -> Row[Any]:
        """An account trading through an exchange connection: no fees or slippage of ours (the
        venue charges), balances as the venue reported them."""
        row = (
            await conn.execute(
                sql(
                    f'INSERT INTO "{self.s}".accounts (id, user_id, name, kind, venue, connection_id, '
                    "maker_fee_rate, taker_fee_rate, slippage_model, slippage, initial_balances) VALUES "
                    "(:id, :user, :name, 'exchange', :venue, :connection, 0, 0, 'none', 0, "
                    f"CAST(:initial AS jsonb)) RETURNING {ACCOUNT_COLUMNS}"
                ),
                {
                    "id": account_id,
                    "user": user_id,
                    "name": name,
                    "venue": venue,
                    "connection": connection_id,
                    "initial": json.dumps({asset: str(amount) for asset, amount in balances.items()}),
                },
            )
        ).one()
        await self.set_balances(conn, account_id, balances)
        return row

    async def exchange_accounts(self, conn: AsyncConnection) -> list[Row[Any]]:
        """Active exchange accounts whose connection still exists."""
        result = await conn.execute(
            sql(
                f"SELECT {ACCOUNT_COLUMNS} FROM \"{self.s}\".accounts WHERE kind = 'exchange' "
                "AND status = 'active' AND connection_id IS NOT NULL ORDER BY id"
            )
        )
        return list(result.all())

    async def set_balances(
        self, conn: AsyncConnection, account_id: uuid.UUID, balances: dict[str, Decimal]
    ) -> None:
        """Replace every balance of the account (free = amount, nothing locked)."""
        await conn.execute(sql(f'DELETE FROM "{self.s}".balances WHERE account_id = :id'), {"id": account_id})
        for asset, amount in balances.items():
            await conn.execute(
                sql(
                    f'INSERT INTO "{self.s}".balances (account_id, asset, free, locked) '
                    "VALUES (:id, :asset, :amount, 0)"
                ),
                {"id": account_id, "asset": asset, "amount": amount},
            )

    async def get(
        self, conn: AsyncConnection, account_id: str, user_id: str | None, *, for_update: bool = False
    ) -> Row[Any] | None:
        """The account if it is ``user_id``'s (any user when ``None``: internal callers)."""
        key = parse_uuid(account_id)
        if key is None:
            return None
        lock = " FOR UPDATE" if for_update else ""
        result = await conn.execute(
            sql(
                f'SELECT {ACCOUNT_COLUMNS} FROM "{self.s}".accounts WHERE id = :id '
                f"AND (CAST(:user AS text) IS NULL OR user_id = :user){lock}"
            ),
            {"id": key, "user": user_id},
        )
        return result.first()

    async def get_many(
        self, conn: AsyncConnection, account_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Row[Any]]:
        """``get`` of several accounts in one statement (internal callers: any user's), by id."""
        result = await conn.execute(
            sql(f'SELECT {ACCOUNT_COLUMNS} FROM "{self.s}".accounts WHERE id = ANY(CAST(:ids AS uuid[]))'),
            {"ids": sorted(set(account_ids))},
        )
        return {row.id: row for row in result}

    async def page(
        self,
        conn: AsyncConnection,
        user_id: str,
        *,
        include_archived: bool,
        limit: int,
        before: uuid.UUID | None,
    ) -> list[Row[Any]]:
        result = await conn.execute(
            sql(
                f'SELECT {ACCOUNT_COLUMNS} FROM "{self.s}".accounts WHERE user_id = :user '
                "AND (:archived OR status = 'active') "
                "AND (CAST(:before AS uuid) IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit"
            ),
            {"user": user_id, "archived": include_archived, "before": before, "limit": limit},
        )
        return list(result.all())

    async def update(self, conn: AsyncConnection, account_id: uuid.UUID, **fields: Any) -> None:
        sets = ", ".join([*(f"{name} = :{name}" for name in fields), "updated_at = now()"])
        await conn.execute(
            sql(f'UPDATE "{self.s}".accounts SET {sets} WHERE id = :id'),
            {"id": account_id, **fields},
        )

    async def balances(self, conn: AsyncConnection, account_id: uuid.UUID) -> list[Row[Any]]:
        result = await conn.execute(
            sql(f'SELECT asset, free, locked FROM "{self.s}".balances WHERE account_id = :id ORDER BY asset'),
            {"id": account_id},
        )
        return list(result.all())

    async def lock(self, conn: AsyncConnection, account_id: uuid.UUID, asset: str, amount: Decimal) -> bool:
        """Move ``amount`` from free to locked; False (nothing changed) when not enough is free."""
        result = await conn.execute(
            sql(
                f'UPDATE "{self.s}".balances SET free = free - :amount, locked = locked + :amount '
                "WHERE account_id = :id AND asset = :asset AND free >= :amount RETURNING 1"
            ),
            {"id": account_id, "asset": asset, "amount": amount},
        )
        return result.first() is not None

    async def apply(
        self, conn: AsyncConnection, account_id: uuid.UUID, asset: str, *, free: Decimal, locked: Decimal
    ) -> None:
        """Add ``free`` and ``locked`` (either may be negative) to a balance, creating it at zero.

        UPDATE first: an ``INSERT … ON CONFLICT`` would check the CHECK constraints against the
        proposed (negative) row before it finds the conflict."""
        params = {"id": account_id, "asset": asset, "free": free, "locked": locked}
        updated = await conn.execute(
            sql(
                f'UPDATE "{self.s}".balances SET free = free + :free, locked = locked + :locked '
                "WHERE account_id = :id AND asset = :asset RETURNING 1"
            ),
            params,
        )
        if updated.first() is None:
            await conn.execute(
                sql(
                    f'INSERT INTO "{self.s}".balances (account_id, asset, free, locked) '
                    "VALUES (:id, :asset, :free, :locked)"
                ),
                params,
            )

    async def apply_many(
        self, conn: AsyncConnection, account_id: uuid.UUID, changes: dict[str, tuple[Decimal, Decimal]]
    ) -> None:
        """``apply`` of several assets (asset → (free, locked) to add) in one UPDATE; a balance
        that does not exist yet is inserted after it (as ``apply`` does)."""
        if len(changes) == 1:
            ((asset, (free, locked)),) = changes.items()
            await self.apply(conn, account_id, asset, free=free, locked=locked)
            return
        assets = list(changes)
        updated = await conn.execute(
            sql(
                f'UPDATE "{self.s}".balances AS b SET free = b.free + c.free, locked = b.locked + c.locked '
                "FROM unnest(CAST(:assets AS text[]), CAST(:frees AS numeric[]), "
                "CAST(:lockeds AS numeric[])) AS c(asset, free, locked) "
                "WHERE b.account_id = :id AND b.asset = c.asset RETURNING b.asset"
            ),
            {"id": account_id, "assets": assets, "frees": [changes[a][0] for a in assets],
             "lockeds": [changes[a][1] for a in assets]},
        )  # fmt: skip
        for asset in set(assets) - {row.asset for row in updated.all()}:
            free, locked = changes[asset]
            await self.apply(conn, account_id, asset, free=free, locked=locked)

    async def audit(
        self, conn: AsyncConnection, account_id: uuid.UUID, actor: str, action: str, details: dict[str, Any]
    ) -> None:
        await conn.execute(
            sql(
                f'INSERT INTO "{self.s}".account_audit (account_id, actor, action, details) '
                "VALUES (:id, :actor, :action, CAST(:details AS jsonb))"
            ),
            {"id": account_id, "actor": actor, "action": action, "details": json.dumps(details, default=str)},
        )
