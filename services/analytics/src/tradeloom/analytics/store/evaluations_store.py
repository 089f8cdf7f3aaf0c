"""Watched prop-firm evaluations (schema ``analytics``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

COLUMNS = (
    "evaluation_id, user_id, scope, scope_id, rule_set_id, rules, start_day, status, failed_on, passed_on, "
    "updated_at"
)


class EvaluationsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add(self, conn: AsyncConnection, row: dict[str, Any]) -> Row[Any] | None:
        """The new watch; ``None`` when the user already watches this (scope, id, rule set)."""
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".evaluations (evaluation_id, user_id, scope, scope_id, '
                "rule_set_id, rules, start_day, status, failed_on, passed_on) VALUES (:evaluation_id, "
                ":user_id, :scope, :scope_id, :rule_set_id, CAST(:rules AS jsonb), :start_day, :status, "
                ":failed_on, :passed_on) "
                f"ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
            ),
            {**row, "rules": json.dumps(row["rules"])},
        )
        return result.first()

    async def existing(
        self, conn: AsyncConnection, user_id: str, scope: str, scope_id: str, rule_set_id: str
    ) -> Row[Any] | None:
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".evaluations WHERE user_id = :user AND scope = :scope '
                "AND scope_id = :id AND rule_set_id = :rule_set"
            ),
            {"user": user_id, "scope": scope, "id": scope_id, "rule_set": rule_set_id},
        )
        return result.first()

    async def of_user(self, conn: AsyncConnection, user_id: str) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".evaluations WHERE user_id = :user ORDER BY evaluation_id'
            ),
            {"user": user_id},
        )
        return list(result.all())

    async def every(self, conn: AsyncConnection) -> list[Row[Any]]:
        result = await conn.execute(
            text(f'SELECT {COLUMNS} FROM "{self.s}".evaluations ORDER BY evaluation_id')
        )
        return list(result.all())

    async def change_status(
        self, conn: AsyncConnection, evaluation_id: str, *, old: str, new: str, failed_on: date | None,
        passed_on: date | None,
    ) -> Row[Any] | None:  # fmt: skip
        """Move from ``old`` to ``new``; ``None`` when another round already did (no second event)."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".evaluations SET status = :new, failed_on = :failed, passed_on = :passed, '
                "updated_at = now() WHERE evaluation_id = :id AND status = :old "
                f"RETURNING {COLUMNS}"
            ),
            {"id": evaluation_id, "old": old, "new": new, "failed": failed_on, "passed": passed_on},
        )
        return result.first()

    async def delete(self, conn: AsyncConnection, user_id: str, evaluation_id: str) -> bool:
        result = await conn.execute(
            text(
                f'DELETE FROM "{self.s}".evaluations WHERE user_id = :user AND evaluation_id = :id '
                "RETURNING 1"
            ),
            {"user": user_id, "id": evaluation_id},
        )
        return result.first() is not None
