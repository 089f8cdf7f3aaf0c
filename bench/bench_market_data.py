"""market-data: end-to-end ingest throughput and lag, and a year of candles read as 1h.

- ingest: synthetic trades (two symbols, 300,000, generated up front) published to JetStream in
  batches of ``PUBLISH_BATCH`` trades per message by a publisher in its OWN PROCESS (as the source
  and the store would be separate replicas; sharing one GIL measured the publisher's CPU, not the
  store's), stored by the batched persistence consumer in this process (inbox claim + one
  insert-and-merge statement for every timeframe + candle closing, one transaction per fetch of
  ``FETCH_MESSAGES``). Two runs: a full-speed burst of 300,000 trades (trades/s = all trades / time
  from the first publish to the last commit; a burst, not "sustained"; its lag is the backlog a
  producer faster than the store builds), and a sustained run: SUSTAINED_RATE trades/s offered for
  SUSTAIN_S (>= 60) seconds (every message generated and encoded before the clock starts, only its
  time written when published: ``md_publisher``), SUSTAINED_BATCH trades a message so that the
  publish-to-stored lag has >= 10,000 samples (one per message), while a reader asks for the latest
  1m candles in a loop (``store.market_queries.candles``, the ``candles`` op's query).
  Peer: the burst's rows COPYed by asyncpg into a plain table (no broker, no dedupe, no candles).
- query: 525,600 1-minute candles (one year, one symbol) rolled up by the service, then read as
  1h candles (8,760, two pages of ≤ 5,000) through ``svc.market-data.candles`` over NATS, against
  the peer: the same 1h candles aggregated on the fly from the 1m rows by one SQL GROUP BY; then
  the same 1h candles as one ``svc.market-data.candles_columns`` page (base64 float64 columns).
  The peer pays its aggregation on every read; ours reads candles built beforehand, and the
  build's cost (the roll-up, and candle upkeep during ingest) is printed apart, not in the per-read figure.
Every block prints its data and the load average (bench.harness); p99 only from >= 10,000 samples.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import header, percentile_line, require_sustained
from bench.md_publisher import TRADES_PER_SYMBOL, publisher_process, sim_batches
from tradeloom.market_data import app as md_app
from tradeloom.market_data.app import build
from tradeloom.market_data.domain.simulator import SimConfig, SimTrade, SyntheticMarket
from tradeloom.market_data.persistence import Parsed, TradePersistence
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.market_queries import candles
from tradeloom.market_data.store.trades_store import TouchedRange, rollup
from tradeloom.shared.aio import freeze_startup_heap
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

PUBLISH_BATCH = 1000
FETCH_MESSAGES = 50
MINUTE = 60 * 10**9
YEAR_MINUTES = 525_600
QUERY_REPEATS = 21
SUSTAIN_S = 60.0
SUSTAINED_RATE = 75_000
SUSTAINED_BATCH = 250  # 300 messages/s at 75,000 trades/s: >= 18,000 lag samples in 60 s


def migrate_schema(pg: PostgresServer, schema: str) -> None:
    pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")
    migrate(pg.sqlalchemy_url(), schema, find_migrations(md_app.__file__))


async def copy_peer(engine: AsyncEngine, schema: str, batches: list[tuple[str, list[SimTrade]]]) -> float:
    """Seconds for the peer: the same rows COPYed straight into a plain table."""
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {schema}.peer (LIKE {schema}.trades INCLUDING ALL)"))
        driver = (await connection.get_raw_connection()).driver_connection
        peer_began = time.perf_counter()
        for symbol, trades in batches:
            await driver.copy_records_to_table(
                "peer",
                schema_name=schema,
                columns=["venue", "symbol", "ts_ns", "trade_id", "price", "amount", "side"],
                records=[("sim", symbol, t.ts_ns, t.trade_id, t.price, t.amount, t.side) for t in trades],
            )
    return time.perf_counter() - peer_began


async def bench_ingest(url: str, pg: PostgresServer, rate: float | None = None) -> None:  # noqa: PLR0915
    """Full speed (``rate`` None): a burst's throughput; ``rate``: sustained for SUSTAIN_S seconds with
    candle reads running, and the lag under it."""
    schema = "bench_md_ingest"
    await asyncio.to_thread(migrate_schema, pg, schema)
    nc = await nats.connect(url)
    run = f"paced{rate:.0f}" if rate else "full"  # distinct ids: the same ids would be dropped
    subjects = Subjects(f"benchmd{run}")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    engine = create_engine(pg.sqlalchemy_url(), pool_size=4)
    start_ns = time.time_ns()
    per_symbol = TRADES_PER_SYMBOL if rate is None else int(rate * SUSTAIN_S / 2)
    batch = PUBLISH_BATCH if rate is None else SUSTAINED_BATCH
    if rate is not None:
        require_sustained(per_symbol * 2 / rate)
    total = 2 * per_symbol
    lags: list[float] = []
    stored = 0
    done = asyncio.Event()
    last_commit_wall = 0.0

    async def on_commit(items: list[Parsed]) -> None:
        nonlocal stored, last_commit_wall
        now = datetime.now(UTC)
        for item in items:
            lags.append((now - item.envelope.time).total_seconds())
            stored += len(item.trades)
        if stored >= total:
            last_commit_wall = now.timestamp()
            done.set()

    persistence = TradePersistence(
        js=js,
        engine=engine,
        schema=schema,
        subjects=subjects,
        outbox=Outbox(schema, subjects, "bench"),
        tolerance_ns=2 * 10**9,
        batch_size=FETCH_MESSAGES,
        after_commit=on_commit,
    )
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=publisher_process, args=(url, run, start_ns, rate, theirs, per_symbol, batch), daemon=True
    )
    child.start()
    _, generated = await asyncio.to_thread(ours.recv)
    stop = asyncio.Event()
    consumer = asyncio.create_task(persistence.run(stop))
    await asyncio.sleep(0.5)  # the consumer is bound before the first trade goes out
    ours.send("go")
    reads = asyncio.create_task(read_latest_candles(engine, schema, done)) if rate is not None else None
    _, began_wall, published = await asyncio.to_thread(ours.recv)
    await asyncio.wait_for(done.wait(), timeout=max(120.0, 4 * SUSTAIN_S))
    elapsed = last_commit_wall - began_wall
    stop.set()
    await consumer
    child.join(10)
    if rate is not None and reads is not None:
        read_times = await reads
        await engine.dispose()
        await nc.close()
        title = (
            f"ingest sustained: {rate:,.0f} trades/s offered for {total / rate:.0f} s, candle reads running"
        )
        data = f"{total:,} synthetic trades, 2 symbols, {batch} a message, encoded first ({generated:.0f} s)"
        header(title, data)
        offered, stored_rate = total / published, total / elapsed
        print(f"   published in {published:.1f} s ({offered:,.0f}/s really offered); "
        f"stored {stored_rate:,.0f} trades/s in {elapsed:.1f} s (goal >= 75,000 for 60 s)")  # fmt: skip
        lag = percentile_line(lags, 1.0, "s")
        print(f"   lag publish -> stored, one sample per message: {lag} (goal p99 < 1 s)")
        print(f"   latest 1m candles (500) read during it: {percentile_line(read_times)}")
        return
    async with engine.connect() as connection:
        rows = (await connection.execute(text(f"SELECT count(*) FROM {schema}.trades"))).scalar_one()
        candles = (await connection.execute(text(f"SELECT count(*) FROM {schema}.candles"))).scalar_one()
    peer = await copy_peer(engine, schema, sim_batches(run, start_ns))
    await engine.dispose()
    await nc.close()
    header("ingest burst at full speed (not sustained)",
           f"{total:,} trades ({PUBLISH_BATCH}/message, {FETCH_MESSAGES} messages/transaction), "
           f"generated up front in {generated:.2f}s; publisher in its own process")  # fmt: skip
    print(
        f"  stored {rows} rows, {candles} candles (7 timeframes); published in {published:.2f}s "
        f"({total / published:,.0f}/s offered), all stored after {elapsed:.2f}s"
    )
    print(
        f"  burst {total / elapsed:,.0f} trades/s; lag at full speed (a backlog by design: the producer "
        f"outruns the store) {percentile_line(lags, 1.0, 's')}"
    )
    print(
        f"  peer bare asyncpg COPY into a plain table: {total / peer:,.0f} rows/s; "
        f"ratio ours/peer throughput {peer / elapsed:.2f}"
    )


async def read_latest_candles(engine: AsyncEngine, schema: str, done: asyncio.Event) -> list[float]:
    """Seconds per read of the latest 500 1m BTC candles, read back to back until ``done``."""
    seconds: list[float] = []
    while not done.is_set():
        t0 = time.perf_counter()
        async with engine.connect() as connection:
            await candles(connection, schema, "sim", "BTC/USDT", timeframe="1m", from_ns=None, to_ns=None,
                          after_ns=None, limit=500)  # fmt: skip
        seconds.append(time.perf_counter() - t0)
        await asyncio.sleep(0.01)
    return seconds


async def read_candles(client: ServiceClient) -> tuple[list[float], int]:
    """Seconds per read of the year's 1h candles through ``candles`` (pages of 5,000), QUERY_REPEATS
    times, and how many candles a read gave."""
    ours: list[float] = []
    got = 0
    for _ in range(QUERY_REPEATS):
        t0 = time.perf_counter()
        body: dict[str, object] = {"symbol": "BTC/USDT", "timeframe": "1h", "limit": 5000}
        got = 0
        while True:
            page = await client.call_raw("market-data", "candles", body, timeout_s=10)
            got += len(page["candles"])
            if not page["next_cursor"]:
                break
            body["cursor"] = page["next_cursor"]
        ours.append(time.perf_counter() - t0)
    return ours, got


async def read_columns(client: ServiceClient, expected: int) -> list[float]:
    """Seconds per read of the year's 1h candles as one ``candles_columns`` page, QUERY_REPEATS times
    (after the ``candles`` reads, so their figures are as before)."""
    seconds: list[float] = []
    for _ in range(QUERY_REPEATS):
        t0 = time.perf_counter()
        page = await client.call_raw(
            "market-data", "candles_columns", {"symbol": "BTC/USDT", "timeframe": "1h"}, timeout_s=10
        )
        seconds.append(time.perf_counter() - t0)
        assert page["count"] == expected and page["next_cursor"] is None, page["count"]
    return seconds


async def bench_query(url: str, pg: PostgresServer) -> None:
    schema = "bench_md_query"
    await asyncio.to_thread(migrate_schema, pg, schema)
    engine = create_engine(pg.sqlalchemy_url())
    start = 1_704_067_200 * 10**9
    market = SyntheticMarket(SimConfig("BTC/USDT", start_price=40000.0), seed=3)
    prices = [t.price for t in market.trades([start + i * MINUTE for i in range(YEAR_MINUTES)])]
    records = [
        ("sim", "BTC/USDT", "1m", start + i * MINUTE, p, p + 5, p - 5, p, Decimal("1.5"), 10, 0, "", 0, "")
        for i, p in enumerate(prices)
    ]
    async with engine.begin() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        await driver.copy_records_to_table(
            "candles",
            schema_name=schema,
            records=records,
            columns=[
                "venue",
                "symbol",
                "tf",
                "open_ns",
                "open",
                "high",
                "low",
                "close",
                "volume",
                "trade_count",
                "first_ts_ns",
                "first_tid",
                "last_ts_ns",
                "last_tid",
            ],
        )
        await connection.execute(text(f"ANALYZE {schema}.candles"))
    # The service runs in this process: drop the 525,600 generated rows so its garbage collector
    # does not walk them (a full collection over them paused replies by ~150 ms; no real service
    # process holds such a heap).
    del records, prices, market
    gc.collect()
    began = time.perf_counter()
    async with engine.begin() as connection:
        await rollup(
            connection, schema, TouchedRange("sim", "BTC/USDT", start, start + (YEAR_MINUTES - 1) * MINUTE)
        )
    rolled = time.perf_counter() - began

    settings = MarketDataSettings(
        database_url=pg.sqlalchemy_url(),
        nats_url=url,
        nats_prefix="benchq",
        db_schema=schema,
        environment="test",
        health_port=free_port(),
        sim_symbols=["BTC/USDT"],
        sim_trades_per_s=0,
    )
    nc = await nats.connect(url)
    await ensure_streams(nc.jetstream(), Subjects("benchq"))
    runtime = build(settings)
    await runtime.start()
    freeze_startup_heap()  # as ServiceRuntime.run_forever does once a service process started
    client = ServiceClient(nc, Subjects("benchq"))
    await asyncio.sleep(0.5)  # instruments loaded by the start task
    ours, got = await read_candles(client)
    assert got == YEAR_MINUTES // 60, got
    columns = await read_columns(client, got)
    peer: list[float] = []
    sql = text(
        "SELECT open_ns - open_ns % 3600000000000 AS b, (array_agg(open ORDER BY open_ns))[1], max(high), "
        "min(low), (array_agg(close ORDER BY open_ns DESC))[1], sum(volume), sum(trade_count) "
        f"FROM {schema}.candles WHERE venue = 'sim' AND symbol = 'BTC/USDT' AND tf = '1m' "
        "GROUP BY b ORDER BY b"
    )
    for _ in range(3):
        t0 = time.perf_counter()
        async with engine.connect() as connection:
            count = len((await connection.execute(sql)).all())
        peer.append(time.perf_counter() - t0)
    assert count == got
    await runtime.stop()
    await nc.close()
    await engine.dispose()
    header("candle query", f"{YEAR_MINUTES:,} 1m candles (one year, one symbol) read as 1h")
    print(f"   build cost, not in the read figures below: roll-up of the year to 5m…1w {rolled:.2f}s "
          f"(equal to {rolled / statistics.median(peer):.0f} peer reads)")  # fmt: skip
    print(
        f"  1h candles for the year ({got}, 2 pages over NATS): "
        f"median {statistics.median(ours) * 1000:.1f} ms, "
        f"{percentile_line(ours)} (goal < 200 ms; "
        f"{QUERY_REPEATS} reads, the first {ours[0] * 1000:.1f} ms)"
    )
    print(f"  the same as base64 float64 columns (candles_columns, 1 page): {percentile_line(columns)}")
    print(
        f"  peer on-the-fly SQL GROUP BY over the 1m rows (pays its aggregation every read): "
        f"{percentile_line(peer)}; "
        f"ratio ours/peer {statistics.median(ours) / statistics.median(peer):.2f}"
    )


def main() -> None:
    only = os.environ.get("BENCH_MD_ONLY", "")  # "query" or "ingest" runs that half alone
    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        if only != "query":
            asyncio.run(bench_ingest(nats_server.url, pg))
            asyncio.run(bench_ingest(nats_server.url, pg, rate=SUSTAINED_RATE))
        if only != "ingest":
            asyncio.run(bench_query(nats_server.url, pg))


if __name__ == "__main__":
    main()
