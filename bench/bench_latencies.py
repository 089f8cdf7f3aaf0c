"""Reaction times the tests used to assert with wall-clock bounds (flaky on a loaded machine):

- no responders: how soon ``ServiceClient.call`` answers ``unavailable`` when nothing serves the
  operation (the tests only check that it is not a timeout);
- timeout: how close a ``Timeout`` comes to the caller's ``timeout_s`` for a handler that never
  answers;
- outbox NOTIFY: how soon the relay publishes a committed event when its poll interval is 30 s (only
  the LISTEN/NOTIFY wake-up can make it quick).
Prints the median and the max of each (50 samples: too few for a p99; see bench.harness);
servers are real, started here and stopped after.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import nats
from pydantic import BaseModel

from bench.harness import header, percentile_line
from tradeloom.shared.contracts.system import ServiceStarted
from tradeloom.shared.db import create_engine
from tradeloom.shared.errors import Timeout, Unavailable
from tradeloom.shared.migrations import create_outbox_and_inbox_sql
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

ROUNDS = 50
TIMEOUT_S = 0.3


class Empty(BaseModel):
    pass


def report(name: str, samples: list[float]) -> None:
    header(name, f"{len(samples)} sequential calls on a fresh nats-server/Postgres started here")
    print(f"   {percentile_line(samples)}")


async def bench_rpc(url: str) -> None:
    nc = await nats.connect(url)
    subjects = Subjects("benchlat")
    never = asyncio.Event()

    async def hang(_: object, __: Empty) -> Empty:
        await never.wait()
        return Empty()

    hanging = Operation("hang", Empty, Empty, hang, max_concurrency=ROUNDS)
    service = await serve(nc, service="bench", version="1.0.0", subjects=subjects, operations=[hanging])
    client = ServiceClient(nc, subjects)
    unavailable: list[float] = []
    overshoot: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        try:
            await client.call_raw("nobody-home", "ping", timeout_s=5.0)
        except Timeout as error:
            raise AssertionError("no responders became a timeout") from error
        except Unavailable:
            unavailable.append(time.perf_counter() - started)
        started = time.perf_counter()
        try:
            await client.call_raw("bench", "hang", timeout_s=TIMEOUT_S)
        except Timeout:
            overshoot.append(time.perf_counter() - started - TIMEOUT_S)
    never.set()
    await service.stop()
    await nc.close()
    report("no responders → unavailable", unavailable)
    report(f"timeout after timeout_s={TIMEOUT_S}: overshoot", overshoot)


async def bench_outbox_notify(url: str, pg: PostgresServer) -> None:
    nc = await nats.connect(url)
    subjects = Subjects("benchnotify")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    pg.execute("DROP SCHEMA IF EXISTS bench_notify CASCADE", "CREATE SCHEMA bench_notify",
               *create_outbox_and_inbox_sql("bench_notify"))  # fmt: skip
    engine = create_engine(pg.sqlalchemy_url())
    outbox = Outbox("bench_notify", subjects, "tradeloom/bench")
    arrived: asyncio.Queue[float] = asyncio.Queue()

    async def on_message(_: object) -> None:
        arrived.put_nowait(time.perf_counter())

    await nc.subscribe(subjects.event_filter("system"), cb=on_message)
    relay = OutboxRelay(engine, js, "bench_notify", database_url=pg.sqlalchemy_url(), poll_interval_s=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(1.0)  # a bench, not a test: let the listener connect
    latencies: list[float] = []
    for n in range(ROUNDS):
        event = ServiceStarted(
            service="bench", version="1", instance_id=f"b{n}", started_at=datetime.now(UTC)
        )
        started = time.perf_counter()
        async with engine.begin() as connection:
            await outbox.add(connection, event, "bench")
        latencies.append(await asyncio.wait_for(arrived.get(), timeout=20) - started)
    stop.set()
    await task
    await engine.dispose()
    await nc.close()
    report("outbox commit → published (NOTIFY, 30 s poll)", latencies)


def main() -> None:
    with NatsServer() as nats_server, PostgresServer() as pg:
        asyncio.run(bench_rpc(nats_server.url))
        asyncio.run(bench_outbox_notify(nats_server.url, pg))
