"""Idempotency keys: the first request with a key reserves it; its response is kept for retries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Stored:
    fingerprint: bytes
    status_code: int | None  # None: the first request is still running
    response: Any


class IdempotencyStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema

    async def reserve(
        self, user_id: str, key: str, method: str, path: str, fingerprint: bytes
    ) -> Stored | None:
        """Reserve ``key`` for this request (None), or what an earlier request with it left."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".idempotency_keys (user_id, key, method, path, fingerprint) '
                    "VALUES (:user_id, :key, :method, :path, :fp) ON CONFLICT DO NOTHING RETURNING 1"
                ),
                {"user_id": user_id, "key": key, "method": method, "path": path, "fp": fingerprint},
            )
            if result.first() is not None:
                return None
            row = (
                await conn.execute(
                    text(
                        "SELECT fingerprint, status_code, response "
                        f'FROM "{self.s}".idempotency_keys WHERE user_id = :user_id AND key = :key'
                    ),
                    {"user_id": user_id, "key": key},
                )
            ).one()
        return Stored(bytes(row[0]), row[1], row[2])

    async def complete(self, user_id: str, key: str, status_code: int, response: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".idempotency_keys SET status_code = :status, '
                    "response = CAST(:response AS jsonb) WHERE user_id = :user_id AND key = :key"
                ),
                {"user_id": user_id, "key": key, "status": status_code, "response": json.dumps(response)},
            )

    async def release(self, user_id: str, key: str) -> None:
        """Forget a reservation whose request failed, so that a retry can run it again."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(f'DELETE FROM "{self.s}".idempotency_keys WHERE user_id = :user_id AND key = :key'),
                {"user_id": user_id, "key": key},
            )

    async def prune(self, older_than: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(f'DELETE FROM "{self.s}".idempotency_keys WHERE created_at < :t'), {"t": older_than}
            )
