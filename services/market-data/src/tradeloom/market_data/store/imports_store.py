"""The ``imports`` table: historical import jobs, their stored cursor, counters and gaps.

A replica works on a job while it holds its lease (``lease_until``, renewed with every page); a
job whose lease ran out (its replica was killed) is claimed again and resumes from ``cursor_ns``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name

_COLUMNS = (
    "import_id::text AS import_id, venue, symbol, kind, from_ns, to_ns, cursor_ns, status, pages, "
    "fetched, stored, retries, gaps, error, created_by, "
    "(extract(epoch FROM created_at) * 1e9)::bigint AS created_at_ns, "
    "(extract(epoch FROM updated_at) * 1e9)::bigint AS updated_at_ns"
)


async def insert_import(connection: AsyncConnection, schema: str, job: dict[str, Any]) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".imports (import_id, venue, symbol, kind, from_ns, to_ns, cursor_ns, '
            "status, created_by) VALUES (CAST(:import_id AS uuid), :venue, :symbol, :kind, :from_ns, "
            ":to_ns, :cursor_ns, 'queued', :created_by)"
        ),
        job,
    )


async def claim_import(connection: AsyncConnection, schema: str, lease_s: float) -> Row[Any] | None:
    """The oldest unfinished job nobody holds, now held by the caller for ``lease_s``."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f"UPDATE \"{s}\".imports SET status = 'running', updated_at = now(), "
            "lease_until = now() + make_interval(secs => :lease) "
            f'WHERE import_id = (SELECT import_id FROM "{s}".imports '
            "WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now()) "
            "ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
            f"RETURNING {_COLUMNS}"
        ),
        {"lease": lease_s},
    )
    return result.first()


async def record_page(
    connection: AsyncConnection,
    schema: str,
    import_id: str,
    *,
    cursor_ns: int,
    fetched: int,
    stored: int,
    gaps: list[tuple[int, int]],
    done: bool,
    lease_s: float,
) -> None:
    """The page's effect, in the transaction that stored its candles: cursor, counters, gaps, lease."""
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'UPDATE "{s}".imports SET cursor_ns = :cursor, pages = pages + 1, fetched = fetched + :fetched, '
            "stored = stored + :stored, gaps = gaps || CAST(:gaps AS jsonb), updated_at = now(), "
            "status = CASE WHEN :done THEN 'done' ELSE status END, "
            "lease_until = CASE WHEN :done THEN NULL ELSE now() + make_interval(secs => :lease) END "
            "WHERE import_id = CAST(:id AS uuid)"
        ),
        {
            "id": import_id,
            "cursor": cursor_ns,
            "fetched": fetched,
            "stored": stored,
            "gaps": json.dumps([{"from_ns": a, "to_ns": b} for a, b in gaps]),
            "done": done,
            "lease": lease_s,
        },
    )


async def record_retry(connection: AsyncConnection, schema: str, import_id: str, lease_s: float) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'UPDATE "{s}".imports SET retries = retries + 1, updated_at = now(), '
            "lease_until = now() + make_interval(secs => :lease) WHERE import_id = CAST(:id AS uuid)"
        ),
        {"id": import_id, "lease": lease_s},
    )


async def fail_import(connection: AsyncConnection, schema: str, import_id: str, error: str) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f"UPDATE \"{s}\".imports SET status = 'failed', error = :e, updated_at = now(), "
            "lease_until = NULL WHERE import_id = CAST(:id AS uuid)"
        ),
        {"id": import_id, "e": error[:500]},
    )


async def list_imports(
    connection: AsyncConnection, schema: str, *, import_id: str | None, venue: str | None, limit: int
) -> list[Row[Any]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'SELECT {_COLUMNS} FROM "{s}".imports '
            "WHERE (CAST(:id AS uuid) IS NULL OR import_id = CAST(:id AS uuid)) "
            "AND (CAST(:v AS text) IS NULL OR venue = :v) ORDER BY created_at DESC, import_id LIMIT :n"
        ),
        {"id": import_id, "v": venue, "n": limit},
    )
    return list(result)
