"""psycopg 3 vs asyncpg for bulk market data: COPY of 1,000,000 trades into a table shaped like
``market_data.trades`` (same columns, same 4-column primary key), three alternating rounds each.

Variants: asyncpg ``copy_records_to_table`` (binary COPY, what the service and its bench peer use);
psycopg 3 ``cursor.copy`` with ``write_row`` in text format (its default) and in binary format
(``set_types``). Rows are built once (prices and amounts as ``Decimal``, as the service holds them)
and the same rows go to every variant; each round COPYs into a freshly truncated table in one
transaction. Needs ``psycopg[binary]`` (not in the locked dependencies: ``pip install
"psycopg[binary]==3.3.9"``); the decision and the figures are in services/market-data/README.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from decimal import Decimal
from typing import Any

import asyncpg

from tradeloom.shared.testing.postgres_server import PostgresServer

ROWS = 1_000_000
ROUNDS = 3
COLUMNS = ("venue", "symbol", "ts_ns", "trade_id", "price", "amount", "side")
TABLE_DDL = """CREATE TABLE bench_copy (
    venue text NOT NULL, symbol text NOT NULL, ts_ns bigint NOT NULL, trade_id text NOT NULL,
    price numeric NOT NULL, amount numeric NOT NULL, side text NOT NULL,
    PRIMARY KEY (venue, symbol, ts_ns, trade_id))"""
START_NS = 1_704_067_200 * 10**9


def rows() -> list[tuple[Any, ...]]:
    prices = [Decimal(65_000) + Decimal(i) / 100 for i in range(1000)]
    amounts = [Decimal(i + 1) / 10_000 for i in range(997)]
    return [
        ("sim", "BTC/USDT", START_NS + i * 1_000_000, str(i), prices[i % 1000], amounts[i % 997],
         "buy" if i % 2 else "sell")
        for i in range(ROWS)
    ]  # fmt: skip


async def copy_asyncpg(dsn: str, data: list[tuple[Any, ...]]) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE bench_copy")
        began = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("bench_copy", columns=list(COLUMNS), records=data)
        return time.perf_counter() - began
    finally:
        await connection.close()


async def copy_psycopg(dsn: str, data: list[tuple[Any, ...]], *, binary: bool) -> float:
    import psycopg  # optional: only this bench needs it

    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        await connection.execute("TRUNCATE bench_copy")
        await connection.commit()
        began = time.perf_counter()
        async with connection.cursor() as cursor:
            statement = f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN" + (
                " (FORMAT BINARY)" if binary else ""
            )
            async with cursor.copy(statement) as copy:
                if binary:
                    copy.set_types(["text", "text", "int8", "text", "numeric", "numeric", "text"])
                for row in data:
                    await copy.write_row(row)
        await connection.commit()
        return time.perf_counter() - began


async def run(pg: PostgresServer) -> None:
    dsn = pg.dsn()
    pg.execute("DROP TABLE IF EXISTS bench_copy", TABLE_DDL)
    data = rows()
    results: dict[str, list[float]] = {
        "asyncpg (binary)": [],
        "psycopg 3 (text)": [],
        "psycopg 3 (binary)": [],
    }
    for _ in range(ROUNDS):  # alternate, so the box's load drifts over all variants alike
        results["asyncpg (binary)"].append(await copy_asyncpg(dsn, data))
        results["psycopg 3 (text)"].append(await copy_psycopg(dsn, data, binary=False))
        results["psycopg 3 (binary)"].append(await copy_psycopg(dsn, data, binary=True))
    for name, seconds in results.items():
        rates = ", ".join(f"{ROWS / s / 1000:.0f}k" for s in seconds)
        print(f"{name:20s} COPY {ROWS:,} trades: median {statistics.median(seconds):.2f} s ({rates} rows/s)")


def main() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before the run (1/5/15 min): {load} on {os.cpu_count()} CPUs")
    with PostgresServer() as pg:
        asyncio.run(run(pg))


if __name__ == "__main__":
    main()
