"""Saved option strategies and their latest valuation (schema ``analytics``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

COLUMNS = (
    "option_strategy_id, user_id, name, underlying, venue, model, rate, dividend_yield, legs, created_at, "
    "valuation, marked_ts_ns"
)


class OptionStrategiesStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def add(self, conn: AsyncConnection, row: dict[str, Any]) -> Row[Any]:
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".option_strategies (option_strategy_id, user_id, name, underlying, '
                "venue, model, rate, dividend_yield, legs) VALUES (:option_strategy_id, :user_id, :name, "
                ":underlying, :venue, :model, :rate, :dividend_yield, CAST(:legs AS jsonb)) "
                f"RETURNING {COLUMNS}"
            ),
            {**row, "legs": json.dumps(row["legs"])},
        )
        return result.one()

    async def of_user(self, conn: AsyncConnection, user_id: str) -> list[Row[Any]]:
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".option_strategies WHERE user_id = :user '
                "ORDER BY created_at, option_strategy_id"
            ),
            {"user": user_id},
        )
        return list(result.all())

    async def get(self, conn: AsyncConnection, user_id: str, strategy_id: str) -> Row[Any] | None:
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".option_strategies WHERE user_id = :user '
                "AND option_strategy_id = :id"
            ),
            {"user": user_id, "id": strategy_id},
        )
        return result.first()

    async def on_underlying(
        self, conn: AsyncConnection, venue: str, underlying: str, before_ns: int
    ) -> list[Row[Any]]:
        """The strategies of the underlying not yet valued at a price as new as ``before_ns``."""
        result = await conn.execute(
            text(
                f'SELECT {COLUMNS} FROM "{self.s}".option_strategies WHERE venue = :venue '
                "AND underlying = :underlying AND (marked_ts_ns IS NULL OR marked_ts_ns < :ts) "
                "ORDER BY option_strategy_id"
            ),
            {"venue": venue, "underlying": underlying, "ts": before_ns},
        )
        return list(result.all())

    async def set_valuation(
        self, conn: AsyncConnection, strategy_id: str, valuation: dict[str, Any], ts_ns: int
    ) -> bool:
        """Store a valuation at a price seen at ``ts_ns``; ``False`` when a newer one is stored (or the
        strategy is gone): then no event either."""
        result = await conn.execute(
            text(
                f'UPDATE "{self.s}".option_strategies SET valuation = CAST(:valuation AS jsonb), '
                "marked_ts_ns = :ts WHERE option_strategy_id = :id "
                "AND (marked_ts_ns IS NULL OR marked_ts_ns < :ts) RETURNING 1"
            ),
            {"id": strategy_id, "valuation": json.dumps(valuation), "ts": ts_ns},
        )
        return result.first() is not None

    async def delete(self, conn: AsyncConnection, user_id: str, strategy_id: str) -> bool:
        result = await conn.execute(
            text(
                f'DELETE FROM "{self.s}".option_strategies WHERE user_id = :user '
                "AND option_strategy_id = :id RETURNING 1"
            ),
            {"user": user_id, "id": strategy_id},
        )
        return result.first() is not None
