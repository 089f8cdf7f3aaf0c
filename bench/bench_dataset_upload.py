"""market-data: how long a dataset upload takes, up to the 50 MB limit, and where the time goes.

Real NATS and Postgres (started here, stopped after) and market-data in-process (``build()``, its
migrated schema). Each file (hourly OHLCV bars, sizes up to ``DATASET_MAX_BYTES``) is sent the way
the gateway streams ``POST /v1/datasets``: ``datasets_upload_begin``, a ``datasets_upload_chunk``
per 512 KiB piece (``routes/datasets.PIECE_BYTES``), then ``datasets_upload_commit``, which validates
every row and stores the bars (one transaction, COPY). Measured: the chunks' time, the commit's
time, and the whole; peer in the same run: parsing the same text in-process alone
(``parse_ohlcv_csv``), the floor of the commit's validation. The gateway waits
``DATASET_COMMIT_TIMEOUT_S`` (300 s) for the commit; the largest file whose total stays under it
completes. The machine is shared: run it when quiet and quote the load average with the figures.
"""

from __future__ import annotations

import asyncio
import time

import nats

from bench.harness import header
from tradeloom.market_data import app as md_app
from tradeloom.market_data.domain.datasets import parse_ohlcv_csv
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

SCHEMA = "bench_md_upload"
PREFIX = "benchup"
PIECE_CHARS = 512 * 1024  # the gateway's PIECE_BYTES (ASCII: characters = bytes)
MEGABYTE = 1024 * 1024
SIZES_MB = (5, 22, 49.9)  # the reported 22 MB, and the largest under the 50 MiB limit
COMMIT_DEADLINE_S = 900.0  # the bench waits longer than the gateway would, to measure past it
GATEWAY_COMMIT_DEADLINE_S = 300.0
START_MS = 1_704_067_200_000
HOUR_MS = 3_600_000


def bars_csv(target_bytes: int) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    size, i = 0, 0
    while size < target_bytes:
        o = 100 + (i % 13)
        c = o + (1 if i % 2 else -1)
        line = f"{START_MS + i * HOUR_MS},{o},{max(o, c) + 0.5},{min(o, c) - 0.5},{c},{1 + i % 5}"
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


async def upload(
    client: ServiceClient, caller: CallerContext, name: str, text: str
) -> tuple[float, float, int]:
    """(chunks seconds, commit seconds, bars stored)."""
    began = time.perf_counter()
    started = await client.call_raw("market-data", "datasets_upload_begin", {"name": name}, caller=caller)
    for seq, start in enumerate(range(0, len(text), PIECE_CHARS)):
        piece = {"upload_id": started["upload_id"], "seq": seq, "data": text[start : start + PIECE_CHARS]}
        await client.call_raw("market-data", "datasets_upload_chunk", piece, caller=caller, timeout_s=30)
    sent = time.perf_counter()
    done = await client.call_raw(
        "market-data",
        "datasets_upload_commit",
        {"upload_id": started["upload_id"]},
        caller=caller,
        timeout_s=COMMIT_DEADLINE_S,
    )
    return sent - began, time.perf_counter() - sent, int(done["bar_count"])


async def measure(nats_url: str, database_url: str) -> None:
    settings = MarketDataSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=PREFIX,
        db_schema=SCHEMA,
        environment="test",
        health_port=free_port(),
        sim_symbols=[],
    )
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), Subjects(PREFIX))
    runtime = md_app.build(settings)
    await runtime.start()
    client, caller = ServiceClient(nc, Subjects(PREFIX)), CallerContext(user_id="bench")
    sizes = ", ".join(f"{mb:g}" for mb in SIZES_MB)
    data = f"synthetic OHLCV CSV of {sizes} MB; max_bytes {settings.dataset_max_bytes:,}"
    header("dataset upload through market-data, one sample per size (minutes each: no rounds)", data)
    try:
        for mb in SIZES_MB:
            text = bars_csv(int(mb * MEGABYTE))
            parse_began = time.perf_counter()
            rows = len(parse_ohlcv_csv(text).bars)
            parse_s = time.perf_counter() - parse_began
            chunks_s, commit_s, stored = await upload(client, caller, f"bench-{mb}", text)
            total = chunks_s + commit_s
            verdict = "completes" if total < GATEWAY_COMMIT_DEADLINE_S else "over the gateway's deadline"
            print(
                f"  {len(text) / MEGABYTE:5.1f} MB, {rows:,} bars: total {total:6.1f} s "
                f"(chunks {chunks_s:5.1f} s, commit {commit_s:6.1f} s) — {verdict}; "
                f"peer: parse alone {parse_s:5.1f} s, commit/parse {commit_s / parse_s:.2f}"
            )
            assert stored == rows
    finally:
        await runtime.stop()
        await nc.close()


def main() -> None:
    with NatsServer() as nats_server, PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(md_app.__file__))
        asyncio.run(measure(nats_server.url, pg.sqlalchemy_url()))


if __name__ == "__main__":
    main()
