"""backtest-engine through its API: a 100,000-bar backtest, submit → completed event, warm.

Real NATS and Postgres (started here, stopped after), the service in-process, and a stand-in
market-data answering ``svc.market-data.candles_packed`` (one binary frame of raw columns per
aligned block of up to 10,000 candles) and ``candles_columns`` (the same blocks as base64 JSON,
for comparison) over NATS from memory (its replies are built once, so the figure is
backtest-engine's cost, not market-data's database). Measured: the time from sending ``submit`` to
receiving ``backtest.evt.completed`` (median, min and max over several warm runs; goal p50 < 100 ms)
with the phases inside it (the worker's ``last_phases`` stamps), first with the candle cache off
(every run fetches every block: the figure the goal is held to) and then on (the same range again:
only the two partial edge blocks are fetched), against floors in the same run: the same backtest
computed in-process by tradeloom.quant on arrays already in memory; fetching the blocks alone over
NATS (the worker's path, ``BlockSource``), and the same blocks as base64 ``candles_columns`` JSON;
storing the same results alone (``ResultsStore.save`` in one transaction); and, for comparison,
the same bars as the JSON ``candles`` op's 5,000-candle pages decoded the way backtest-engine used
to (``page_arrays``). The process' CPU time per run is printed beside the wall time.

One line: ``python -m bench bench_backtest_api``.
"""

from __future__ import annotations

import asyncio
import binascii
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

import nats
import numpy as np
from sqlalchemy import text

from bench.backtest_api_market import MINUTE_NS, MemoryMarketData, random_walk
from bench.harness import header
from tradeloom.backtest_engine import app
from tradeloom.backtest_engine.adapters.candle_blocks import BlockSource, blocks_of
from tradeloom.backtest_engine.adapters.candles_source import MARKET_DATA, page_arrays
from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BacktestOutcome, BarArrays, run_backtest
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.backtest_engine.store.results_store import ResultsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.market_data import (
    CandlesReply,
    CandlesRequest,
)
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import (
    PACKED_COLUMNS,
    CandlesPackedHeader,
)
from tradeloom.shared.db import create_engine
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

BARS = 100_000
WARMUP, RUNS = 2, 9
SCHEMA = "bench_backtest_api"
# phase: (from stamp, to stamp); stamps from the worker's ``last_phases`` and this process' clock
PHASES = {
    "submit → claimed (reply, outbox relay, JetStream, consumer)": ("sent", "claimed"),
    "claimed → fetching (start, progress)": ("claimed", "started"),
    "fetch candles": ("started", "fetched"),
    "simulate + metrics (with a progress update)": ("fetched", "simulated"),
    "store results, final status, outbox": ("simulated", "handled"),
    "commit, ack, relay → completed event": ("handled", "event"),
}
PREFIX = "benchbt"
CACHE_BLOCKS = BacktestEngineSettings.model_fields["candle_cache_pages"].default


def request_body() -> dict[str, Any]:
    return {
        "strategy": "sma_cross",
        "params": {"fast": 10, "slow": 20},
        "symbol": "BTC/USDT",
        "timeframe": "1m",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-04-01T00:00:00Z",
        "costs": {"commission_model": "percent", "taker_rate": "0.001", "maker_rate": "0.001"},
    }


async def wait_finished(
    finished: dict[str, tuple[float, Envelope]], arrived: asyncio.Event, key: str
) -> float:
    """When the run's completed event arrived (it may come before the submit reply is read)."""
    while key not in finished:
        arrived.clear()
        await asyncio.wait_for(arrived.wait(), 60)
    at, envelope = finished[key]
    if not envelope.type.endswith("completed.v1"):
        raise RuntimeError(f"the run failed: {envelope.data}")
    return at


async def fetch_floor(client: ServiceClient, caller: CallerContext, concurrency: int) -> list[float]:
    """Seconds to fetch the run's candle blocks alone (as the worker does, without its cache), five
    times."""
    plan = plan_run(SubmitBacktest.model_validate(request_body()))
    assert plan.start_ns is not None and plan.end_ns is not None
    size = BacktestEngineSettings.model_fields["candle_block_size"].default
    source = BlockSource(client, caller, symbol="BTC/USDT", venue=None, timeframe="1m",
                         timeframe_ns=MINUTE_NS, page_size=size, timeout_s=10, cache=None)  # fmt: skip
    fetch: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        async for page in source.pages(plan.start_ns, plan.end_ns, concurrency):
            del page
        fetch.append(time.perf_counter() - began)
    return fetch


async def columns_floor(client: ServiceClient, caller: CallerContext) -> list[float]:
    """Seconds to fetch the same blocks as base64 ``candles_columns`` JSON, one at a time, decoded
    as backtest-engine did before ``candles_packed`` (base64 + ``numpy.frombuffer``), five times."""
    plan = plan_run(SubmitBacktest.model_validate(request_body()))
    assert plan.start_ns is not None and plan.end_ns is not None
    size = BacktestEngineSettings.model_fields["candle_block_size"].default
    fetch: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        for block in blocks_of(plan.start_ns, plan.end_ns, size * MINUTE_NS):
            body = CandleColumnsRequest(symbol="BTC/USDT", timeframe="1m", from_ns=block.lo_ns,
                                        to_ns=block.hi_ns, limit=size)  # fmt: skip
            data = await client.call_raw(MARKET_DATA, "candles_columns", body, caller=caller, timeout_s=10)
            for name, dtype in PACKED_COLUMNS:
                np.frombuffer(binascii.a2b_base64(data[name], strict_mode=True), dtype=dtype)
        fetch.append(time.perf_counter() - began)
    return fetch


async def store_floor(database_url: str, outcome: BacktestOutcome) -> list[float]:
    """Seconds to store the run's results alone (``ResultsStore.save``: metrics, series, trades)
    in one transaction, as the worker does, five times (each on a run row of its own)."""
    engine = create_engine(database_url)
    store = ResultsStore(SCHEMA)
    seconds: list[float] = []
    try:
        for _ in range(6):
            backtest_id = str(uuid.uuid4())
            async with engine.begin() as conn:
                await conn.execute(
                    text(f"INSERT INTO {SCHEMA}.runs (backtest_id, user_id, kind, status, strategy, params, "
                         "request) VALUES (:id, 'bench', 'backtest', 'running', 'sma_cross', '{}', '{}')"),
                    {"id": backtest_id},
                )  # fmt: skip
            began = time.perf_counter()
            async with engine.begin() as conn:
                await store.save(conn, backtest_id, outcome, Decimal("10000"))
            seconds.append(time.perf_counter() - began)
    finally:
        await engine.dispose()
    return seconds[1:]


async def json_floor(client: ServiceClient, caller: CallerContext) -> list[float]:
    """Seconds to fetch the same bars as JSON ``candles`` pages of 5,000, one at a time, decoded as
    backtest-engine did before ``candles_columns`` (``page_arrays``), five times."""
    plan = plan_run(SubmitBacktest.model_validate(request_body()))
    fetch: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        cursor: str | None = None
        while True:
            body = CandlesRequest(symbol="BTC/USDT", timeframe="1m", from_ns=plan.start_ns,
                                  to_ns=plan.end_ns, limit=5000, cursor=cursor)  # fmt: skip
            data = await client.call_raw(MARKET_DATA, "candles", body, caller=caller, timeout_s=10)
            page_arrays(data["candles"])
            if data["next_cursor"] is None:
                break
            cursor = data["next_cursor"]
        fetch.append(time.perf_counter() - began)
    return fetch


async def timed_runs(
    parts: app.Parts, client: ServiceClient, caller: CallerContext,
    finished: dict[str, tuple[float, Envelope]], arrived: asyncio.Event,
) -> tuple[list[float], dict[str, list[float]]]:  # fmt: skip
    """Submit → completed event of WARMUP + RUNS runs one after another; the warm ones' seconds and
    phase durations."""
    samples: list[float] = []
    phases: dict[str, list[float]] = {name: [] for name in PHASES | {"CPU": ("", "")}}
    for i in range(WARMUP + RUNS):
        cpu = time.process_time()
        sent = time.perf_counter()
        reply = await client.call_raw(
            "backtest-engine", "submit", request_body(), caller=caller, timeout_s=10
        )
        done = await wait_finished(finished, arrived, reply["backtest_id"])
        if i >= WARMUP:
            samples.append(done - sent)
            stamps = {"sent": sent, **parts.worker.last_phases, "event": done}
            for name, (first, last) in PHASES.items():
                phases[name].append(stamps[last] - stamps[first])
            phases["CPU"].append(time.process_time() - cpu)
    return samples, phases


def report(title: str, samples: list[float], phases: dict[str, list[float]]) -> float:
    p50 = statistics.median(samples)
    low, high = min(samples) * 1000, max(samples) * 1000
    print(f"  {title}: median {p50 * 1000:.0f} ms (min {low:.0f}, max {high:.0f}, "
          f"{len(samples)} warm runs; too few for a p95/p99) (goal p50 < 100 ms)")  # fmt: skip
    for name, values in phases.items():
        if name != "CPU":
            print(f"    {name:<62} median {statistics.median(values) * 1000:6.1f} ms")
    cpu = statistics.median(phases["CPU"]) * 1000
    print(f"    CPU time of this process per run (worker, stand-in market-data, client): median {cpu:.0f} ms")
    return p50


async def measure(nats_url: str, database_url: str) -> None:
    subjects = Subjects(PREFIX)
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), subjects)
    market = MemoryMarketData(random_walk(BARS))
    md = await serve(
        nc,
        service="market-data",
        version="0.0.0",
        subjects=subjects,
        operations=[
            Operation("candles", CandlesRequest, CandlesReply, market.answer),
            Operation("candles_columns", CandleColumnsRequest, CandleColumnsReply, market.answer_columns),
            Operation("candles_packed", CandleColumnsRequest, CandlesPackedHeader, market.answer_packed),
        ],
    )
    finished: dict[str, tuple[float, Envelope]] = {}
    arrived = asyncio.Event()

    async def on_event(message: Any) -> None:
        envelope = Envelope.from_bytes(message.data)
        if envelope.type.endswith((".completed.v1", ".failed.v1")):
            finished[str(envelope.data["backtest_id"])] = (time.perf_counter(), envelope)
            arrived.set()

    await nc.subscribe(subjects.event_filter("backtest"), cb=on_event)
    client = ServiceClient(nc, subjects)
    caller = CallerContext(user_id="bench")
    results: dict[str, tuple[list[float], dict[str, list[float]]]] = {}
    try:
        for label, cache_pages in (("no candle cache", 0), ("candle cache (same range again)", CACHE_BLOCKS)):
            settings = BacktestEngineSettings(
                database_url=database_url, nats_url=nats_url, nats_prefix=PREFIX, db_schema=SCHEMA,
                environment="test", health_port=free_port(), log_level="WARNING",
                candle_cache_pages=cache_pages,
            )  # fmt: skip
            parts = app.build_parts(settings)
            await parts.runtime.start()
            try:
                results[label] = await timed_runs(parts, client, caller, finished, arrived)
            finally:
                await parts.runtime.stop()
        fetch = await fetch_floor(
            client, caller, BacktestEngineSettings.model_fields["candles_concurrency"].default
        )
        fetch_serial = await fetch_floor(client, caller, 1)
        fetch_columns = await columns_floor(client, caller)
        fetch_json = await json_floor(client, caller)
    finally:
        await md.stop()
        await nc.close()

    b = market.bars
    arrays = BarArrays(b["time"], b["open"], b["high"], b["low"], b["close"], b["volume"])
    plan = with_bars(plan_run(SubmitBacktest.model_validate(request_body())), arrays.time, MINUTE_NS)
    outcome = run_backtest(plan, arrays)
    store = await store_floor(database_url, outcome)
    compute: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        run_backtest(plan, arrays)
        compute.append(time.perf_counter() - began)

    floors = {"compute": compute, "fetch": fetch, "store": store, "fetch_serial": fetch_serial,
              "columns": fetch_columns, "json": fetch_json}  # fmt: skip
    print_figures(results, floors, outcome)


def print_figures(
    results: dict[str, tuple[list[float], dict[str, list[float]]]], floors: dict[str, list[float]],
    outcome: BacktestOutcome,
) -> None:  # fmt: skip
    """The runs with their phases, then the floors (seconds per sample) and ratios."""
    compute, fetch, store = floors["compute"], floors["fetch"], floors["store"]
    fetch_serial, fetch_columns, fetch_json = floors["fetch_serial"], floors["columns"], floors["json"]
    header(f"backtest-engine API, {BARS:,} bars SMA(10,20), submit -> completed event",
           f"{RUNS} warm runs each after {WARMUP} warm-up runs")  # fmt: skip
    p50 = {label: report(label, *found) for label, found in results.items()}
    compute_s, fetch_s, store_s = (statistics.median(x) for x in (compute, fetch, store))
    print(f"  floor 1, tradeloom.quant in-process on arrays in memory: median {compute_s * 1000:.1f} ms")
    print(f"  floor 2, the candle blocks alone over NATS (candles_packed frames, ≤ 10,000 a block): median "
          f"{fetch_s * 1000:.0f} ms ({statistics.median(fetch_serial) * 1000:.0f} ms one request at a time; "
          f"the same blocks as base64 candles_columns JSON one at a time, decoded as before: "
          f"{statistics.median(fetch_columns) * 1000:.0f} ms; the JSON candles op's 20 pages of 5,000 "
          f"one at a time: {statistics.median(fetch_json) * 1000:.0f} ms)")  # fmt: skip
    print(f"  floor 3, storing the results alone (ResultsStore.save, one transaction): median "
          f"{store_s * 1000:.1f} ms (min {min(store) * 1000:.1f}, max {max(store) * 1000:.1f}; "
          f"{outcome.trades.shape[0]:,} trades, {outcome.equity.size:,} bars)")  # fmt: skip
    uncached = p50["no candle cache"]
    floors = compute_s + fetch_s + store_s
    print(
        f"  ratio API/(compute+fetch+store) {uncached / floors:.2f} without the cache; service overhead "
        f"(queue, outbox, progress, commit) ≈ {(uncached - floors) * 1000:.0f} ms"
    )


def main() -> None:
    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(app.__file__))
        asyncio.run(measure(nats_server.url, pg.sqlalchemy_url()))


if __name__ == "__main__":
    main()
