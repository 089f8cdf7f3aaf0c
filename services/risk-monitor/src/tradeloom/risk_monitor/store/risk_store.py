"""Limits, halts and alerts in the ``risk_monitor`` schema."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.domain.limits import LIMIT_NAMES, Limits
from tradeloom.shared.db import check_schema_name

LIMIT_COLUMNS = (
    *LIMIT_NAMES,
    "starting_balance",
    "alert_threshold_pct",
    "day_boundary_tz",
    "day_boundary_time",
)
INTEGER_LIMITS = ("max_open_orders", "max_orders_per_minute")


def limit_values(row: Row[Any] | None) -> dict[str, Any] | None:
    """The stored limits as JSON-ready values (decimals as plain strings, the time as HH:MM)."""
    limits = limits_of(row)
    if limits is None:
        return None
    values: dict[str, Any] = {}
    for name in LIMIT_COLUMNS:
        value = getattr(limits, name)
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f")
        elif isinstance(value, time):
            value = value.strftime("%H:%M")
        values[name] = value
    return values


def limits_of(row: Row[Any] | None) -> Limits | None:
    if row is None:
        return None
    values = {name: getattr(row, name) for name in LIMIT_COLUMNS}
    for name in (*LIMIT_NAMES, "starting_balance"):
        if values[name] is not None and name not in INTEGER_LIMITS:
            values[name] = Decimal(values[name])
    values["alert_threshold_pct"] = Decimal(values["alert_threshold_pct"])
    return Limits(**values)


class RiskStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    # --- limits ------------------------------------------------------------------------------
    async def limits_row(
        self,
        conn: AsyncConnection,
        user_id: str,
        account_id: str,
        bot_id: str = "",
        *,
        for_update: bool = False,
    ) -> Row[Any] | None:
        lock = " FOR UPDATE" if for_update else ""
        return (
            await conn.execute(
                text(
                    f'SELECT * FROM "{self.s}".limits WHERE user_id = :user AND account_id = :account '
                    f"AND bot_id = :bot{lock}"
                ),
                {"user": user_id, "account": account_id, "bot": bot_id},
            )
        ).first()

    async def all_limits(self, conn: AsyncConnection) -> list[Row[Any]]:
        return list(await conn.execute(text(f'SELECT * FROM "{self.s}".limits')))

    async def put_limits(
        self,
        conn: AsyncConnection,
        user_id: str,
        account_id: str,
        values: dict[str, Any],
        *,
        bot_id: str,
        by: str,
    ) -> Row[Any]:
        columns = ", ".join(LIMIT_COLUMNS)
        params = ", ".join(f":{name}" for name in LIMIT_COLUMNS)
        updates = ", ".join(f"{name} = :{name}" for name in LIMIT_COLUMNS)
        row = (
            await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".limits (user_id, account_id, bot_id, {columns}, updated_by) '
                    f"VALUES (:user, :account, :bot, {params}, :by) "
                    "ON CONFLICT (user_id, account_id, bot_id) DO UPDATE "
                    f"SET {updates}, updated_by = :by, updated_at = now() RETURNING *"
                ),
                {"user": user_id, "account": account_id, "bot": bot_id, "by": by, **values},
            )
        ).one()
        return row

    async def delete_limits(self, conn: AsyncConnection, user_id: str, account_id: str, bot_id: str) -> bool:
        result = await conn.execute(
            text(
                f'DELETE FROM "{self.s}".limits WHERE user_id = :user AND account_id = :account '
                "AND bot_id = :bot RETURNING 1"
            ),
            {"user": user_id, "account": account_id, "bot": bot_id},
        )
        return result.first() is not None

    # --- audit of limit changes ---------------------------------------------------------------
    async def audit(
        self,
        conn: AsyncConnection,
        user_id: str,
        account_id: str,
        *,
        bot_id: str,
        by: str,
        action: str,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
    ) -> None:
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".limit_changes (user_id, account_id, bot_id, changed_by, action, '
                "old_values, new_values) "
                "VALUES (:user, :account, :bot, :by, :action, CAST(:old AS jsonb), CAST(:new AS jsonb))"
            ),
            {
                "user": user_id,
                "account": account_id,
                "bot": bot_id,
                "by": by,
                "action": action,
                "old": None if old is None else json.dumps(old),
                "new": None if new is None else json.dumps(new),
            },
        )

    async def changes(
        self, conn: AsyncConnection, user_id: str, account_id: str | None, limit: int
    ) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT * FROM "{self.s}".limit_changes WHERE user_id = :user '
                "AND (CAST(:account AS text) IS NULL OR account_id = :account) "
                "ORDER BY changed_at DESC, id DESC LIMIT :limit"
            ),
            {"user": user_id, "account": account_id, "limit": limit},
        )
        return list(rows)

    # --- halts -------------------------------------------------------------------------------
    async def halts(self, conn: AsyncConnection) -> list[Row[Any]]:
        return list(await conn.execute(text(f'SELECT * FROM "{self.s}".halts')))

    async def set_halt(self, conn: AsyncConnection, scope: str, user_key: str, reason: str, by: str) -> bool:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".halts (scope, user_key, reason, created_by) '
                "VALUES (:scope, :key, :reason, :by) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"scope": scope, "key": user_key, "reason": reason, "by": by},
        )
        return result.first() is not None

    async def clear_halt(self, conn: AsyncConnection, scope: str, user_key: str) -> bool:
        result = await conn.execute(
            text(f'DELETE FROM "{self.s}".halts WHERE scope = :scope AND user_key = :key RETURNING 1'),
            {"scope": scope, "key": user_key},
        )
        return result.first() is not None

    # --- alerts ------------------------------------------------------------------------------
    async def add_alert(self, conn: AsyncConnection, alert: dict[str, Any]) -> Row[Any] | None:
        """The stored alert, or None when this (account, limit, level, episode) already has one."""
        return (
            await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".alerts (id, user_id, account_id, limit_name, level, severity, '
                    "episode, value, threshold, message) VALUES (:id, :user_id, :account_id, :limit_name, "
                    ":level, :severity, :episode, :value, :threshold, :message) "
                    "ON CONFLICT DO NOTHING RETURNING *"
                ),
                alert,
            )
        ).first()

    async def alerts(
        self, conn: AsyncConnection, user_id: str, account_id: str | None, unacknowledged: bool, limit: int
    ) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT * FROM "{self.s}".alerts WHERE user_id = :user '
                "AND (CAST(:account AS text) IS NULL OR account_id = :account) "
                "AND (NOT :unack OR acknowledged_at IS NULL) ORDER BY created_at DESC, id DESC LIMIT :limit"
            ),
            {"user": user_id, "account": account_id, "unack": unacknowledged, "limit": limit},
        )
        return list(rows)

    async def ack_alert(self, conn: AsyncConnection, user_id: str, alert_id: str) -> Row[Any] | None:
        return (
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".alerts SET acknowledged_at = coalesce(acknowledged_at, now()) '
                    "WHERE id = :id AND user_id = :user RETURNING *"
                ),
                {"id": alert_id, "user": user_id},
            )
        ).first()
