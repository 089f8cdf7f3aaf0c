"""Users' own prop-firm rule sets (schema ``analytics``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


class RuleSetsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(
        self, conn: AsyncConnection, rule_set_id: str, user_id: str, name: str, rules: dict[str, Any]
    ) -> bool:
        """False when the user already has a rule set of that name."""
        try:
            async with conn.begin_nested():
                await conn.execute(
                    text(
                        f'INSERT INTO "{self.s}".rule_sets (rule_set_id, user_id, name, rules) '
                        "VALUES (:id, :user, :name, CAST(:rules AS jsonb))"
                    ),
                    {"id": rule_set_id, "user": user_id, "name": name, "rules": json.dumps(rules)},
                )
        except IntegrityError:
            return False
        return True

    async def of_user(self, conn: AsyncConnection, user_id: str) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT rule_set_id, name, rules FROM "{self.s}".rule_sets WHERE user_id = :user '
                "ORDER BY created_at, rule_set_id"
            ),
            {"user": user_id},
        )
        return list(result.all())

    async def get(self, conn: AsyncConnection, user_id: str, rule_set_id: str) -> Row[Any] | None:
        result = await conn.execute(
            text(
                f'SELECT rule_set_id, name, rules FROM "{self.s}".rule_sets '
                "WHERE user_id = :user AND rule_set_id = :id"
            ),
            {"user": user_id, "id": rule_set_id},
        )
        return result.first()

    async def delete(self, conn: AsyncConnection, user_id: str, rule_set_id: str) -> bool:
        result = await conn.execute(
            text(f'DELETE FROM "{self.s}".rule_sets WHERE user_id = :user AND rule_set_id = :id RETURNING 1'),
            {"user": user_id, "id": rule_set_id},
        )
        return result.first() is not None
