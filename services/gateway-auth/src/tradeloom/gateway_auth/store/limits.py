"""Rate-limit buckets and login lockouts kept in Postgres, so every gateway replica shares them.

One statement takes a token from several buckets at once (atomic per bucket under concurrency:
``INSERT … ON CONFLICT DO UPDATE … WHERE enough tokens``); denied buckets are read back only to
compute ``Retry-After``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.gateway_auth.domain.ratelimit import BucketSpec, LockoutPolicy


@dataclass(frozen=True)
class Denied:
    key: str
    retry_after_s: int


class LimitStore:
    def __init__(self, engine: AsyncEngine, schema: str) -> None:
        self.engine = engine
        self.s = schema

    async def take(self, wanted: list[tuple[BucketSpec, str]], cost: float = 1.0) -> Denied | None:
        """Take ``cost`` from each ``(spec, subject)`` bucket; the first denial, or None if all allowed."""
        specs = {spec.key(subject): spec for spec, subject in wanted}
        keys = list(specs)
        elapsed = (
            "GREATEST(0, EXTRACT(EPOCH FROM (EXCLUDED.updated_at - b.updated_at)))::float8 * EXCLUDED.per_s"
        )
        available = f"LEAST(EXCLUDED.capacity, b.tokens + {elapsed})"
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".rate_limit_buckets AS b '
                    "(key, tokens, capacity, per_s, updated_at) "
                    "SELECT k, c - :cost, c, r, clock_timestamp() FROM unnest("
                    "CAST(:keys AS text[]), CAST(:caps AS float8[]), CAST(:rates AS float8[])) AS q(k, c, r) "
                    "ORDER BY k "  # a fixed lock order: concurrent multi-bucket takes never deadlock
                    f"ON CONFLICT (key) DO UPDATE SET tokens = {available} - :cost, "
                    "updated_at = EXCLUDED.updated_at, capacity = EXCLUDED.capacity, per_s = EXCLUDED.per_s "
                    f"WHERE {available} >= :cost RETURNING key"
                ),
                {
                    "keys": keys,
                    "caps": [specs[k].capacity for k in keys],
                    "rates": [specs[k].per_s for k in keys],
                    "cost": cost,
                },
            )
            allowed = {str(row[0]) for row in result}
            denied = [key for key in keys if key not in allowed]
            if not denied:
                return None
            rows = await conn.execute(
                text(
                    "SELECT key, tokens, EXTRACT(EPOCH FROM (clock_timestamp() - updated_at))::float8 "
                    f'FROM "{self.s}".rate_limit_buckets WHERE key = ANY(CAST(:keys AS text[]))'
                ),
                {"keys": denied},
            )
            waits = [
                Denied(key, specs[key].retry_after_s(specs[key].refill(float(tokens), float(age)), cost))
                for key, tokens, age in rows
            ]
        return max(waits, key=lambda d: d.retry_after_s) if waits else Denied(denied[0], 1)

    async def locked_for_s(self, key: str) -> int:
        """Seconds left on a lockout of ``key`` (0: not locked)."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM (locked_until - clock_timestamp()))::float8 "
                    f'FROM "{self.s}".login_failures WHERE key = :key AND locked_until > clock_timestamp()'
                ),
                {"key": key},
            )
            left = result.scalar_one_or_none()
        return 0 if left is None else max(1, math.ceil(float(left)))

    async def record_failure(self, key: str, policy: LockoutPolicy, forget_after_s: float) -> int:
        """Count a failed login; lock progressively. Returns the lock length in seconds (0: none)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".login_failures AS f (key, failures) VALUES (:key, 1) '
                    "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN f.updated_at < "
                    "now() - make_interval(secs => :forget) THEN 1 ELSE f.failures + 1 END, "
                    "updated_at = now() RETURNING failures"
                ),
                {"key": key, "forget": forget_after_s},
            )
            failures = int(result.scalar_one())
            lock_s = policy.lock_for_s(failures)
            if lock_s > 0:
                await conn.execute(
                    text(
                        f'UPDATE "{self.s}".login_failures SET locked_until = '
                        "clock_timestamp() + make_interval(secs => :secs) WHERE key = :key"
                    ),
                    {"key": key, "secs": lock_s},
                )
        return math.ceil(lock_s)

    async def clear_failures(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(f'DELETE FROM "{self.s}".login_failures WHERE key = :key'), {"key": key})

    async def prune(self, older_than: datetime) -> None:
        """Forget buckets idle long enough to be full again, and stale failure counters."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(f'DELETE FROM "{self.s}".rate_limit_buckets WHERE updated_at < :t'), {"t": older_than}
            )
            await conn.execute(
                text(
                    f'DELETE FROM "{self.s}".login_failures WHERE updated_at < :t '
                    "AND (locked_until IS NULL OR locked_until < now())"
                ),
                {"t": older_than},
            )
