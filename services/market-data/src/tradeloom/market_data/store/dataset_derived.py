"""Lineage and derived columns of preprocessed datasets (``datasets.lineage``, ``dataset_columns``).

A column is one float8 array over the dataset's bars in time order (NULL where undefined), so a
page of it is an array slice by the bars' positions.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


async def save_derived(
    connection: AsyncConnection,
    schema: str,
    dataset_id: str,
    lineage: dict[str, Any] | None,
    columns: dict[str, list[float | None]],
) -> None:
    """``lineage`` None: an upload's own columns (its factor column), no preprocessing behind them."""
    s = check_schema_name(schema)
    key = uuid.UUID(dataset_id)
    if lineage is not None:
        await connection.execute(
            text(f'UPDATE "{s}".datasets SET lineage = CAST(:l AS jsonb) WHERE dataset_id = :d'),
            {"d": key, "l": json.dumps(lineage)},
        )
    for position, (name, values) in enumerate(columns.items()):
        await connection.execute(
            text(
                f'INSERT INTO "{s}".dataset_columns (dataset_id, position, name, "values") '
                "VALUES (:d, :p, :n, CAST(:v AS float8[]))"
            ),
            {"d": key, "p": position, "n": name, "v": values},
        )


async def lineage(connection: AsyncConnection, schema: str, dataset_id: str) -> dict[str, Any] | None:
    s = check_schema_name(schema)
    found = await connection.execute(
        text(f'SELECT lineage FROM "{s}".datasets WHERE dataset_id = :d'), {"d": uuid.UUID(dataset_id)}
    )
    value = found.scalar_one_or_none()
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


async def page_positions(
    connection: AsyncConnection, schema: str, dataset_id: str, *, lo: int, hi: int, after: int, limit: int
) -> list[tuple[int, int]]:
    """(1-based position, ts_ns) of up to ``limit`` bars in ``[lo, hi]`` after ``after``."""
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(
            "SELECT position, ts_ns FROM (SELECT ts_ns, row_number() OVER (ORDER BY ts_ns) AS position "
            f'FROM "{s}".dataset_bars WHERE dataset_id = :d) AS b '
            "WHERE ts_ns >= :lo AND ts_ns <= :hi AND ts_ns > :after ORDER BY ts_ns LIMIT :n"
        ),
        {"d": uuid.UUID(dataset_id), "lo": lo, "hi": hi, "after": after, "n": limit},
    )
    return [(int(r.position), int(r.ts_ns)) for r in rows]


async def column_slices(
    connection: AsyncConnection, schema: str, dataset_id: str, first: int, last: int
) -> dict[str, list[float | None]]:
    """Each derived column's values at positions ``first..last`` (1-based, inclusive), in order."""
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(
            'SELECT name, "values"[CAST(:a AS integer) : CAST(:b AS integer)] AS part '
            f'FROM "{s}".dataset_columns WHERE dataset_id = :d ORDER BY position'
        ),
        {"d": uuid.UUID(dataset_id), "a": first, "b": last},
    )
    return {r.name: list(r.part) for r in rows}
