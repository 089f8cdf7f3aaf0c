"""backtest-engine through its API: a 100,000-bar backtest, submit → completed event, warm.

Real NATS and Postgres (started here, stopped after), the service in-process, and a stand-in
market-data answering ``svc.market-data.candles_columns`` over NATS from memory (aligned blocks of
up to 10,000 candles as base64 float64/int64 columns; its replies are built once, so the figure is
backtest-engine's cost, not market-data's database). Measured: the time from sending ``submit`` to
receiving ``backtest.evt.completed`` (median, min and max over several warm runs; goal p50 < 100 ms) with the
phases inside it (the worker's ``last_phases`` stamps), first with the candle cache off (every run
fetches every block: the figure the goal is held to) and then on (the same range again: only the
two partial edge blocks are fetched), against floors in the same run: the same backtest computed
in-process by tradeloom.quant on arrays already in memory; fetching the blocks alone over NATS
(the worker's path, ``BlockSource``); and, for comparison, the same bars as the JSON ``candles``
op's 5,000-candle pages decoded the way backtest-engine used to (``page_arrays``).
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from decimal import Decimal
from typing import Any

import nats
import numpy as np

from bench.harness import header
from tradeloom.backtest_engine import app
from tradeloom.backtest_engine.adapters.candle_blocks import BlockSource
from tradeloom.backtest_engine.adapters.candles_source import MARKET_DATA, page_arrays
from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.market_data import (
    Candle,
    CandlesReply,
    CandlesRequest,
)
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

BARS = 100_000
MINUTE_NS = 60 * 10**9
START_NS = 1_704_067_200 * 10**9
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


def random_walk(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    open_ = np.round(np.concatenate([[100.0], close[:-1]]), 2)
    high = np.round(np.maximum(open_, close) * 1.001, 2)
    low = np.round(np.minimum(open_, close) * 0.999, 2)
    volume = np.round(rng.uniform(1, 100, n), 3)
    time_ns = START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS
    return {"time": time_ns, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


class MemoryMarketData:
    """Candles pages (JSON and columns) built once; answered through the real rpc layer with the
    contract models."""

    def __init__(self, bars: dict[str, np.ndarray]) -> None:
        self.bars = bars
        self.candles = [
            Candle(
                open_ns=int(bars["time"][i]),
                **{k: Decimal(repr(float(bars[k][i]))) for k in ("open", "high", "low", "close", "volume")},
                trade_count=1,
            )
            for i in range(len(bars["time"]))
        ]
        self.pages: dict[tuple[int, int], CandlesReply] = {}
        self.column_pages: dict[tuple[int, int], CandleColumnsReply] = {}

    async def answer(self, _: CallerContext, body: CandlesRequest) -> CandlesReply:
        times = self.bars["time"]
        lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
        key = (lo, body.limit)
        if key not in self.pages:
            hi = int(np.searchsorted(times, body.to_ns or times[-1], side="right"))
            page = self.candles[lo : min(hi, lo + body.limit)]
            more = lo + body.limit < hi
            self.pages[key] = CandlesReply(
                venue="sim",
                symbol=body.symbol,
                timeframe=body.timeframe,
                candles=page,
                next_cursor=str(page[-1].open_ns) if more and page else None,
            )
        return self.pages[key]

    async def answer_columns(self, _: CallerContext, body: CandleColumnsRequest) -> CandleColumnsReply:
        times = self.bars["time"]
        lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
        hi = int(np.searchsorted(times, body.to_ns or times[-1], side="right"))
        key = (lo, hi)
        if key not in self.column_pages:
            end = max(min(hi, lo + body.limit), lo)

            def b64(values: np.ndarray, dtype: str) -> str:
                return base64.b64encode(np.ascontiguousarray(values[lo:end], dtype=dtype).tobytes()).decode()

            b = self.bars
            self.column_pages[key] = CandleColumnsReply(
                venue="sim",
                symbol=body.symbol,
                timeframe=body.timeframe,
                count=end - lo,
                **{k: b64(b[k], "<f8") for k in ("open", "high", "low", "close", "volume")},
                open_ns=b64(times, "<i8"),
                trade_count=b64(np.ones(len(times)), "<i8"),
                next_cursor=str(int(times[end - 1])) if lo + body.limit < hi and end > lo else None,
            )
        return self.column_pages[key]


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
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    for i in range(WARMUP + RUNS):
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
    return samples, phases


def report(title: str, samples: list[float], phases: dict[str, list[float]]) -> float:
    p50 = statistics.median(samples)
    low, high = min(samples) * 1000, max(samples) * 1000
    print(f"  {title}: median {p50 * 1000:.0f} ms (min {low:.0f}, max {high:.0f}, "
          f"{len(samples)} warm runs; too few for a p95/p99) (goal p50 < 100 ms)")  # fmt: skip
    for name, values in phases.items():
        print(f"    {name:<62} median {statistics.median(values) * 1000:6.1f} ms")
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
        fetch_json = await json_floor(client, caller)
    finally:
        await md.stop()
        await nc.close()

    b = market.bars
    arrays = BarArrays(b["time"], b["open"], b["high"], b["low"], b["close"], b["volume"])
    plan = with_bars(plan_run(SubmitBacktest.model_validate(request_body())), arrays.time, MINUTE_NS)
    run_backtest(plan, arrays)
    compute: list[float] = []
    for _ in range(5):
        began = time.perf_counter()
        run_backtest(plan, arrays)
        compute.append(time.perf_counter() - began)

    header(f"backtest-engine API, {BARS:,} bars SMA(10,20), submit -> completed event",
           f"{RUNS} warm runs each after {WARMUP} warm-up runs")  # fmt: skip
    p50 = {label: report(label, *found) for label, found in results.items()}
    compute_s, fetch_s = statistics.median(compute), statistics.median(fetch)
    print(f"  floor 1, tradeloom.quant in-process on arrays in memory: median {compute_s * 1000:.1f} ms")
    print(f"  floor 2, the candle blocks alone over NATS (candles_columns, ≤ 10,000 a block): median "
          f"{fetch_s * 1000:.0f} ms ({statistics.median(fetch_serial) * 1000:.0f} ms one request at a time; "
          f"the JSON candles op's 20 pages of 5,000 one at a time, decoded as before: "
          f"{statistics.median(fetch_json) * 1000:.0f} ms)")  # fmt: skip
    uncached = p50["no candle cache"]
    print(
        f"  ratio API/(compute+fetch) {uncached / (compute_s + fetch_s):.2f} without the cache; service "
        f"overhead (queue, outbox, progress, storing) ≈ {(uncached - compute_s - fetch_s) * 1000:.0f} ms"
    )


def main() -> None:
    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(app.__file__))
        asyncio.run(measure(nats_server.url, pg.sqlalchemy_url()))


if __name__ == "__main__":
    main()
