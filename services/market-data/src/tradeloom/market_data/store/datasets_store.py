"""Datasets, their bars and in-progress uploads; every query is scoped by owner."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.candles import Bar
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.ids import parse_uuid

INFO_COLUMNS = "dataset_id, name, symbol, bar_count, start_ns, end_ns, interval_ns, created_at"


async def begin_upload(  # noqa: PLR0917 - one column each
    connection: AsyncConnection,
    schema: str,
    owner: str,
    name: str,
    symbol: str | None,
    request_key: str | None,
    file_format: str = "csv",
) -> str:
    s = check_schema_name(schema)
    upload_id = uuid.uuid4()
    await connection.execute(
        text(
            f'INSERT INTO "{s}".dataset_uploads (upload_id, owner, name, symbol, request_key, format) '
            "VALUES (:u, :o, :n, :s, :k, :f)"
        ),
        {"u": upload_id, "o": owner, "n": name, "s": symbol, "k": request_key, "f": file_format},
    )
    return str(upload_id)


async def dataset_by_request_key(
    connection: AsyncConnection, schema: str, owner: str, request_key: str
) -> Row[Any] | None:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT {INFO_COLUMNS} FROM "{s}".datasets WHERE owner = :o AND request_key = :k'),
        {"o": owner, "k": request_key},
    )
    return result.first()


async def upload_for_update(
    connection: AsyncConnection, schema: str, owner: str, upload_id: str
) -> Row[Any] | None:
    s = check_schema_name(schema)
    key = parse_uuid(upload_id)
    if key is None:
        return None
    result = await connection.execute(
        text(
            "SELECT upload_id, name, symbol, request_key, next_seq, received_bytes, format "
            f'FROM "{s}".dataset_uploads WHERE upload_id = :u AND owner = :o FOR UPDATE'
        ),
        {"u": key, "o": owner},
    )
    return result.first()


async def append_chunk(  # noqa: PLR0917 - one column each
    connection: AsyncConnection, schema: str, upload_id: str, seq: int, data: str, size: int
) -> None:
    """Stage chunk ``seq``; ``size`` is the file bytes it carries (``dataset_files.file_bytes``)."""
    s = check_schema_name(schema)
    key = uuid.UUID(upload_id)
    await connection.execute(
        text(f'INSERT INTO "{s}".dataset_upload_chunks (upload_id, seq, data) VALUES (:u, :q, :d)'),
        {"u": key, "q": seq, "d": data},
    )
    await connection.execute(
        text(
            f'UPDATE "{s}".dataset_uploads SET next_seq = next_seq + 1, '
            "received_bytes = received_bytes + :n, last_activity_at = now() WHERE upload_id = :u"
        ),
        {"u": key, "n": size},
    )


async def upload_text(connection: AsyncConnection, schema: str, upload_id: str) -> str:
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(f'SELECT data FROM "{s}".dataset_upload_chunks WHERE upload_id = :u ORDER BY seq'),
        {"u": uuid.UUID(upload_id)},
    )
    return "".join(row.data for row in rows)


async def drop_upload(connection: AsyncConnection, schema: str, upload_id: str) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(f'DELETE FROM "{s}".dataset_uploads WHERE upload_id = :u'), {"u": uuid.UUID(upload_id)}
    )


async def abort_upload(connection: AsyncConnection, schema: str, owner: str, upload_id: str) -> bool:
    """Delete the caller's upload and its staged chunks; False when there is no such upload of theirs."""
    s = check_schema_name(schema)
    key = parse_uuid(upload_id)
    if key is None:
        return False
    result = await connection.execute(
        text(f'DELETE FROM "{s}".dataset_uploads WHERE upload_id = :u AND owner = :o RETURNING 1'),
        {"u": key, "o": owner},
    )
    return result.first() is not None


async def prune_uploads(connection: AsyncConnection, schema: str, idle_s: float) -> int:
    """Delete uploads idle (no begin or chunk) for more than ``idle_s`` seconds; how many went.

    Finished datasets live in ``datasets`` and are never touched. An upload receiving a chunk
    right now holds its row lock; the DELETE waits, re-checks the refreshed activity time and
    keeps it."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            f'DELETE FROM "{s}".dataset_uploads '
            "WHERE last_activity_at < now() - make_interval(secs => :idle) RETURNING 1"
        ),
        {"idle": idle_s},
    )
    return len(result.all())


async def name_taken(connection: AsyncConnection, schema: str, owner: str, name: str) -> bool:
    s = check_schema_name(schema)
    found = await connection.execute(
        text(f'SELECT 1 FROM "{s}".datasets WHERE owner = :o AND name = :n'), {"o": owner, "n": name}
    )
    return found.first() is not None


async def create_dataset(
    connection: AsyncConnection,
    schema: str,
    owner: str,
    *,
    name: str,
    symbol: str | None,
    bars: list[Bar],
    interval_ns: int | None,
    request_key: str | None = None,
) -> Row[Any]:
    """Store a dataset and all its bars (COPY) in the caller's transaction."""
    s = check_schema_name(schema)
    dataset_id = uuid.uuid4()
    await connection.execute(
        text(
            f'INSERT INTO "{s}".datasets (dataset_id, owner, name, symbol, bar_count, start_ns, end_ns, '
            "interval_ns, request_key) VALUES (:d, :o, :n, :s, :c, :a, :b, :i, :k)"
        ),
        {
            "d": dataset_id,
            "o": owner,
            "n": name,
            "s": symbol,
            "c": len(bars),
            "i": interval_ns,
            "k": request_key,
            "a": bars[0].open_ns if bars else None,
            "b": bars[-1].open_ns if bars else None,
        },
    )
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None and raw.is_in_transaction()
    await raw.copy_records_to_table(
        "dataset_bars",
        schema_name=s,
        columns=["dataset_id", "ts_ns", "open", "high", "low", "close", "volume"],
        records=[(dataset_id, b.open_ns, b.open, b.high, b.low, b.close, b.volume) for b in bars],
    )
    found = await dataset_info(connection, s, owner, str(dataset_id))
    assert found is not None
    return found


async def dataset_info(
    connection: AsyncConnection, schema: str, owner: str, dataset_id: str
) -> Row[Any] | None:
    s = check_schema_name(schema)
    key = parse_uuid(dataset_id)
    if key is None:
        return None
    result = await connection.execute(
        text(f'SELECT {INFO_COLUMNS} FROM "{s}".datasets WHERE dataset_id = :d AND owner = :o'),
        {"d": key, "o": owner},
    )
    return result.first()


async def list_datasets(connection: AsyncConnection, schema: str, owner: str) -> list[Row[Any]]:
    s = check_schema_name(schema)
    result = await connection.execute(
        text(f'SELECT {INFO_COLUMNS} FROM "{s}".datasets WHERE owner = :o ORDER BY created_at, name'),
        {"o": owner},
    )
    return list(result.all())


async def dataset_gaps(
    connection: AsyncConnection, schema: str, dataset_id: str, interval_ns: int, limit: int = 100
) -> tuple[list[Row[Any]], int]:
    s = check_schema_name(schema)
    sql = (
        "SELECT prev AS after_ns, ts_ns AS before_ns, (ts_ns - prev) / :i - 1 AS missing_bars FROM ("
        "SELECT ts_ns, lag(ts_ns) OVER (ORDER BY ts_ns) AS prev "
        f'FROM "{s}".dataset_bars WHERE dataset_id = :d'
        ") AS x WHERE ts_ns - prev > :i ORDER BY ts_ns"
    )
    params = {"d": uuid.UUID(dataset_id), "i": interval_ns}
    rows = list((await connection.execute(text(sql + " LIMIT :n"), {**params, "n": limit})).all())
    total = (await connection.execute(text(f"SELECT count(*) FROM ({sql}) AS g"), params)).scalar_one()
    return rows, int(total)


async def dataset_bars(connection: AsyncConnection, schema: str, dataset_id: str) -> list[Bar]:
    s = check_schema_name(schema)
    rows = await connection.execute(
        text(
            f'SELECT ts_ns, open, high, low, close, volume FROM "{s}".dataset_bars '
            "WHERE dataset_id = :d ORDER BY ts_ns"
        ),
        {"d": uuid.UUID(dataset_id)},
    )
    return [Bar(r.ts_ns, r.open, r.high, r.low, r.close, r.volume, 0) for r in rows]


async def dataset_bars_page(
    connection: AsyncConnection,
    schema: str,
    dataset_id: str,
    *,
    from_ns: int | None,
    to_ns: int | None,
    after_ns: int | None,
    limit: int,
) -> list[Row[Any]]:
    """Up to ``limit + 1`` bars in time order (the extra one tells the caller there is more)."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            "SELECT ts_ns AS open_ns, open, high, low, close, volume, 0 AS trade_count "
            f'FROM "{s}".dataset_bars WHERE dataset_id = :d '
            "AND ts_ns >= :lo AND ts_ns <= :hi AND ts_ns > :after ORDER BY ts_ns LIMIT :n"
        ),
        {
            "d": uuid.UUID(dataset_id),
            "lo": from_ns if from_ns is not None else 0,
            "hi": to_ns if to_ns is not None else 2**63 - 1,
            "after": after_ns if after_ns is not None else -1,
            "n": limit + 1,
        },
    )
    return list(result.all())


async def delete_dataset(connection: AsyncConnection, schema: str, owner: str, dataset_id: str) -> bool:
    s = check_schema_name(schema)
    key = parse_uuid(dataset_id)
    if key is None:
        return False
    result = await connection.execute(
        text(f'DELETE FROM "{s}".datasets WHERE dataset_id = :d AND owner = :o RETURNING 1'),
        {"d": key, "o": owner},
    )
    return result.first() is not None
