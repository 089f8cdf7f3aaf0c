"""Latency of risk-monitor's pre-trade check (``svc.risk-monitor.check``) under offered load, no asserts.

risk-monitor runs in-process against a real nats-server and Postgres with 100 accounts, each with
every limit set (ten each, user and account level) and a position in two symbols. Checks spread over
the accounts are offered open-loop at ``BENCH_RISK_RATE`` (1,000) per second over NATS, as
order-router sends them (a request is sent on schedule whether or not the earlier ones were
answered), in rotating rounds of three contenders:

- ``memory``: the check as it runs (the account's state in memory, kept current by events);
- ``frozen``: the same after ``gc.collect()`` and ``gc.freeze()`` (the heap built so far is never
  scanned again by the collector: shorter pauses);
- ``read``: the check made to read the account from Postgres each time (``CheckState.known``
  answering None: the path of a check right after a fill), at a fifth of the rate (at the full rate
  its database pool saturates on a loaded box and the backlog spills into the other rounds).

Timed per check: inside the service, from ``handle_request``'s entry (JSON and pydantic decoding
included) to the encoded reply, with the CPU time the thread spent over that span (the rest is
waiting for a core, a collection or the database), and the NATS round trip. Printed: p50, p99
(>= 10,000 samples per contender) and max of each, the service process's CPU time per check and
its garbage collections (count, longest pause) per contender, with the load average.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
from sqlalchemy import text

from bench.harness import header, percentile_line
from tradeloom.risk_monitor import app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared import rpc
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

ACCOUNTS = 100
RATE = float(os.environ.get("BENCH_RISK_RATE", "1000"))
ROUNDS = 5
PER_ROUND = int(os.environ.get("BENCH_RISK_PER_ROUND", "2000"))  # 5 rounds: 10,000 per contender
WARMUP = 1000
SCHEMA = "bench_risk"
PREFIX = "benchrisk"
PENDING_TTL_S = 1.0  # no order events in the bench: an approved order stops counting as open after it
CONTENDERS = ("memory", "frozen", "read")
ROOT = Path(__file__).resolve().parents[1]


def request(n: int) -> RiskCheckRequest:
    account = n % ACCOUNTS
    return RiskCheckRequest(
        user_id=f"u{account}", account_id=f"a{account}", order_id=f"o{n}", client_order_id=f"c{n}",
        venue="sim", symbol="BTC/USDT", side="buy" if n % 2 else "sell", type="limit",
        quantity=Decimal("0.1"), price=Decimal(100), notional=Decimal(10),
    )  # fmt: skip


async def seed(runtime: object, schema: str) -> None:
    engine = runtime.engine  # type: ignore[attr-defined]
    limits = ("max_order_notional, max_position_notional, max_open_orders, max_daily_loss, "
              "max_gross_exposure, max_orders_per_minute, max_leverage, max_daily_loss_hard, max_drawdown, "
              "starting_balance, updated_by")  # fmt: skip
    async with engine.begin() as conn:
        for a in range(ACCOUNTS):
            for account in (f"a{a}", ""):
                await conn.execute(
                    text(
                        f"INSERT INTO {schema}.limits (user_id, account_id, {limits}) "
                        "VALUES (:u, :a, 100000, 50000, 50, 5000, 200000, 1000000, 10, 8000, 5000, 100000, "
                        "'bench')"
                    ),
                    {"u": f"u{a}", "a": account},
                )
            for symbol in ("BTC/USDT", "ETH/USDT"):
                await conn.execute(
                    text(
                        f"INSERT INTO {schema}.positions (account_id, symbol, user_id, quantity, "
                        "average_entry, realised_pnl, fees, fill_count, last_filled_at, last_fill_id) "
                        "VALUES (:a, :s, :u, 1, 100, 0, 0, 1, now(), 'f')"
                    ),
                    {"a": f"a{a}", "s": symbol, "u": f"u{a}"},
                )


class Recorder:
    """Times ``rpc.handle_request`` of the check: entry (bytes in) to the encoded reply."""

    def __init__(self) -> None:
        self.inside: list[float] = []
        self.cpu: list[float] = []  # the thread's CPU time over the same span
        self.original = rpc.handle_request

    async def handle(self, operation: rpc.Operation[Any, Any], service: str, request: Any) -> bytes:
        started, cpu = time.perf_counter(), time.thread_time()
        reply = await self.original(operation, service, request)
        if operation.name == "check":
            self.inside.append(time.perf_counter() - started)
            self.cpu.append(time.thread_time() - cpu)
        return reply


class GcWatch:
    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self.on_gc)

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)


async def offer(nats_url: str, first: int, count: int, rate: float) -> tuple[list[float], list[str]]:
    """Send ``count`` checks open-loop at ``rate`` per second; their round trips (s), the errors."""
    nc = await nats.connect(nats_url)
    client = ServiceClient(nc, Subjects(PREFIX))
    round_trip: list[float] = []

    failed: list[str] = []

    async def send(n: int) -> None:
        started = time.perf_counter()
        try:
            await client.call("risk-monitor", "check", request(n), RiskCheckReply, timeout_s=10)
        except ServiceError as error:  # the service overwhelmed (e.g. its database pool): counted
            failed.append(error.code)
            return
        round_trip.append(time.perf_counter() - started)

    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(first + i)))
    await asyncio.gather(*tasks)
    await nc.close()
    return round_trip, failed


def sender(nats_url: str, first: int, count: int, rate: float) -> None:
    """The child process sending a round (as order-router would, apart from the service)."""
    print(json.dumps(asyncio.run(offer(nats_url, first, count, rate))))


async def send_round(nats_url: str, first: int, count: int, rate: float) -> tuple[list[float], list[str]]:
    code = f"from bench.bench_risk import sender; sender({nats_url!r}, {first}, {count}, {rate})"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"sender failed: {child.returncode}")
    samples, failed = json.loads(out)
    return samples, failed


def show(results: dict[str, dict[str, list[float]]], errors: dict[str, list[str]]) -> None:
    for name, path in (
        ("memory", "the account from memory (CheckState), no query"),
        ("frozen", "as memory, after gc.collect() and gc.freeze() (the heap out of every collection)"),
        (
            "read",
            "at a fifth of the rate: the account read from Postgres by each check (CheckState.known "
            "answering None)",
        ),
    ):
        got = results[name]
        failed = Counter(errors[name])
        print(f"   {name}: {path}; errors: {dict(failed) or 'none'}")
        print(f"     inside the service (handle_request): {percentile_line(got['inside'])}, "
              f"max {max(got['inside']) * 1e3:.2f} ms")  # fmt: skip
        print(f"     its CPU time (thread_time; with an await, other tasks' too): "
              f"{percentile_line(got['inside_cpu'])}, max {max(got['inside_cpu']) * 1e3:.2f} ms")  # fmt: skip
        print(f"     NATS round trip (ServiceClient.call): {percentile_line(got['round_trip'])}, "
              f"max {max(got['round_trip']) * 1e3:.2f} ms")  # fmt: skip
        cpu = sorted(got["cpu"])
        pauses = got["gc"]
        print(f"     service CPU per check: median {cpu[len(cpu) // 2] * 1e3:.3f} ms "
              f"(min {cpu[0] * 1e3:.3f}, max {cpu[-1] * 1e3:.3f}); GC: {len(pauses)} collections, "
              f"longest {max(pauses, default=0) * 1e3:.2f} ms")  # fmt: skip


async def run(nats_url: str, pg: PostgresServer) -> None:
    pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
    migrations = find_migrations(sys.modules[app.__name__].__file__ or "")
    await asyncio.to_thread(migrate, pg.sqlalchemy_url(), SCHEMA, migrations)
    settings = RiskMonitorSettings(
        database_url=pg.sqlalchemy_url(), nats_url=nats_url, nats_prefix=PREFIX, db_schema=SCHEMA,
        environment="test", health_port=free_port(), log_json=False, log_level="WARNING",
        pending_order_ttl_s=PENDING_TTL_S,
    )  # fmt: skip
    recorder = Recorder()
    rpc.handle_request = recorder.handle
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), Subjects(PREFIX))
    runtime = app.build(settings)
    await runtime.start()
    try:
        await seed(runtime, SCHEMA)
        handler = next(op for op in runtime.operations if op.name == "check").handler
        state = handler.__self__.state  # type: ignore[attr-defined]
        known = state.known
        await send_round(nats_url, 0, WARMUP, RATE)  # pools, caches, the accounts read once
        results: dict[str, dict[str, list[float]]] = {
            name: {"inside": [], "inside_cpu": [], "round_trip": [], "cpu": [], "gc": []}
            for name in CONTENDERS
        }
        errors: dict[str, list[str]] = {name: [] for name in CONTENDERS}
        reads_before, approved_before = state.reads, checks_approved(runtime)
        first = WARMUP
        for r in range(ROUNDS):
            for name in CONTENDERS[r % len(CONTENDERS) :] + CONTENDERS[: r % len(CONTENDERS)]:
                state.known = (lambda *_: None) if name == "read" else known
                gc.unfreeze()
                if name == "frozen":  # the heap built so far left out of every collection
                    gc.collect()
                    gc.freeze()
                count, rate = (PER_ROUND // 5, RATE / 5) if name == "read" else (PER_ROUND, RATE)
                recorder.inside.clear()
                recorder.cpu.clear()
                watch = GcWatch()
                cpu = time.process_time()
                samples, failed = await send_round(nats_url, first, count, rate)
                results[name]["round_trip"] += samples
                errors[name] += failed
                results[name]["cpu"].append((time.process_time() - cpu) / count)
                gc.callbacks.remove(watch.on_gc)
                results[name]["gc"] += watch.pauses
                results[name]["inside"] += recorder.inside
                results[name]["inside_cpu"] += recorder.cpu
                first += count
        approved = checks_approved(runtime) - approved_before
        header(
            "risk-monitor pre-trade check",
            f"{ACCOUNTS} accounts with 10 limits each at two levels and 2 positions; {RATE:,.0f} checks/s "
            f"offered open-loop over NATS by a child process, {ROUNDS} rotating rounds of {PER_ROUND:,} "
            f"per contender (read: {RATE / 5:,.0f}/s, {PER_ROUND // 5:,}); {approved:,.0f} approved "
            f"(pending orders expire after {PENDING_TTL_S} s); "
            f"{state.reads - reads_before:,} account reads from Postgres",
        )
        show(results, errors)
    finally:
        rpc.handle_request = recorder.original
        await runtime.stop()
        await nc.close()


def checks_approved(runtime: Any) -> float:
    return float(runtime.registry.get_sample_value("tl_risk_checks_total", {"result": "approved"}) or 0)


def main() -> None:
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        asyncio.run(run(nats_server.url, pg))


if __name__ == "__main__":
    main()
