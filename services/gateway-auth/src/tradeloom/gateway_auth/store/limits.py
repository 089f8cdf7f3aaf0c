"""Rate-limit buckets and login lockouts kept in Postgres, so every gateway replica shares them.

Replicas lease tokens in batches (``leases.LeasedLimiter``): one statement gives back an ended
lease's unused tokens and takes the next batch from several buckets at once (atomic per bucket
under concurrency: ``INSERT … ON CONFLICT DO UPDATE … WHERE enough tokens``); denied buckets are
read back only to compute ``Retry-After``.
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

    async def lease(
        self, wanted: list[tuple[BucketSpec, str, float, float]], cost: float = 1.0
    ) -> tuple[dict[str, float], Denied | None]:
        """Lease tokens: for each ``(spec, key, size, returned)`` give back ``returned`` unused tokens of
        an ended lease, then take up to ``size`` tokens (at least ``cost``) if ``cost`` are available.

        One statement, atomic per bucket row (``INSERT … ON CONFLICT DO UPDATE … WHERE enough``,
        rows locked in key order so concurrent multi-bucket leases never deadlock). Returns the
        tokens granted per key, and the longest denial (None if every bucket granted)."""
        specs = {key: spec for spec, key, _, _ in wanted}
        keys = sorted(specs)
        size = {key: want for _, key, want, _ in wanted}
        back = {key: returned for _, key, _, returned in wanted}
        elapsed = (
            "GREATEST(0, EXTRACT(EPOCH FROM (EXCLUDED.updated_at - b.updated_at)))::float8 * EXCLUDED.per_s"
        )
        ask = "(SELECT q.w FROM q WHERE q.k = b.key)"
        available = (
            f"LEAST(EXCLUDED.capacity, b.tokens + {elapsed} + (SELECT q.ret FROM q WHERE q.k = b.key))"
        )
        grant = f"LEAST({ask}, GREATEST(:cost, floor({available})))"
        async with self.engine.begin() as conn:
            result = await conn.execute(
                text(
                    "WITH q AS (SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:caps AS float8[]), "
                    "CAST(:rates AS float8[]), CAST(:wants AS float8[]), CAST(:rets AS float8[])) "
                    "AS q(k, c, r, w, ret)) "
                    f'INSERT INTO "{self.s}".rate_limit_buckets AS b '
                    "(key, tokens, capacity, per_s, updated_at, granted) "
                    "SELECT k, c - LEAST(w, GREATEST(:cost, floor(c))), c, r, clock_timestamp(), "
                    "LEAST(w, GREATEST(:cost, floor(c))) FROM q ORDER BY k "
                    f"ON CONFLICT (key) DO UPDATE SET tokens = {available} - {grant}, granted = {grant}, "
                    "updated_at = EXCLUDED.updated_at, capacity = EXCLUDED.capacity, per_s = EXCLUDED.per_s "
                    f"WHERE {available} >= :cost RETURNING key, granted"
                ),
                {
                    "keys": keys,
                    "caps": [specs[k].capacity for k in keys],
                    "rates": [specs[k].per_s for k in keys],
                    "wants": [size[k] for k in keys],
                    "rets": [back[k] for k in keys],
                    "cost": cost,
                },
            )
            granted = {str(row[0]): float(row[1]) for row in result}
            denied = [key for key in keys if key not in granted]
            if not denied:
                return granted, None
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
        return granted, max(waits, key=lambda d: d.retry_after_s) if waits else Denied(denied[0], 1)

    async def tokens(self, key: str) -> float | None:
        """The tokens a bucket row holds now (for tests and diagnostics)."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(f'SELECT tokens FROM "{self.s}".rate_limit_buckets WHERE key = :key'), {"key": key}
            )
            value = result.scalar_one_or_none()
        return None if value is None else float(value)

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
