"""Foundation messaging overheads, each against its bare peer in the same run.

- request/reply: ``ServiceClient.call`` → ``serve()`` (validation, error envelope, trace headers,
  nats.micro) against a bare nats-py ``request`` to a bare subscription answering the same bytes;
- event publish: the outbox (insert in a transaction + relay publish + mark) against publishing the
  same envelopes to the same stream one at a time and pipelined (100 publishes in flight, acks
  awaited together), interleaved over rotating rounds (bench.harness).
Request/reply alternates which side goes first; p99 from 10,000 samples each. Servers are real,
started here and stopped after.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime

import nats
from pydantic import BaseModel

from bench.harness import AsyncContender, header, interleaved_async, percentile_line
from bench.harness import report as report_timings
from tradeloom.shared.contracts.system import ServiceStarted
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import create_outbox_and_inbox_sql
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

REQUESTS = 10_000  # a p99 needs at least 10,000 samples (bench.harness)
EVENTS = 5000
PIPELINE = 100


class Echo(BaseModel):
    value: int


async def bench_request_reply(url: str) -> None:
    nc = await nats.connect(url)
    subjects = Subjects("bench")

    async def echo(_: object, body: Echo) -> Echo:
        return body

    await serve(nc, service="bench", version="1.0.0", subjects=subjects,
                operations=[Operation("echo", Echo, Echo, echo)])  # fmt: skip

    async def bare(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(b'{"data":' + msg.data + b"}")

    await nc.subscribe("bare.echo", cb=bare)
    client = ServiceClient(nc, subjects)
    ours: list[float] = []
    peer: list[float] = []
    for i in range(REQUESTS):
        for side in (i % 2, 1 - i % 2):  # alternate which goes first
            started = time.perf_counter()
            if side == 0:
                await client.call("bench", "echo", Echo(value=i), Echo)
                ours.append(time.perf_counter() - started)
            else:
                await nc.request("bare.echo", b'{"value":%d}' % i, timeout=2)
                peer.append(time.perf_counter() - started)
    await nc.close()
    report("request/reply round trip", ours, peer, "bare nats-py request")


async def bench_outbox(url: str, pg: PostgresServer) -> None:
    nc = await nats.connect(url)
    subjects = Subjects("benchout")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    pg.execute("DROP SCHEMA IF EXISTS bench_outbox CASCADE", "CREATE SCHEMA bench_outbox",
               *create_outbox_and_inbox_sql("bench_outbox"))  # fmt: skip
    engine = create_engine(pg.sqlalchemy_url())
    outbox = Outbox("bench_outbox", subjects, "tradeloom/bench")
    event = ServiceStarted(service="bench", version="1", instance_id="b", started_at=datetime.now(UTC))
    relay = OutboxRelay(engine, js, "bench_outbox", database_url=pg.sqlalchemy_url(), batch_size=500)
    publisher = EventPublisher(js, subjects, "tradeloom/bench")

    async def outbox_run() -> None:
        for start in range(0, EVENTS, 100):
            async with engine.begin() as connection:
                for _ in range(min(100, EVENTS - start)):
                    await outbox.add(connection, event, "bench")
        while await relay.relay_once():
            pass

    async def one_at_a_time() -> None:
        for _ in range(EVENTS):
            await publisher.publish(event, "bench")

    async def pipelined() -> None:
        for start in range(0, EVENTS, PIPELINE):
            await asyncio.gather(
                *(publisher.publish(event, "bench") for _ in range(min(PIPELINE, EVENTS - start)))
            )

    header(
        f"event publish, {EVENTS:,} events a round",
        "ServiceStarted envelopes to one JetStream stream (file storage)",
    )
    timings = await interleaved_async([
        AsyncContender("outbox", outbox_run, "Outbox.add in 100-event transactions + OutboxRelay.relay_once"),
        AsyncContender("one_by_one", one_at_a_time, "EventPublisher.publish, each ack awaited"),
        AsyncContender("pipelined", pipelined, f"EventPublisher.publish, {PIPELINE} in flight"),
    ])  # fmt: skip
    report_timings(timings, base="pipelined", scale=1.0, unit="s")
    for name, t in timings.items():
        print(f"   {name}: {EVENTS / t.median:,.0f} events/s (median round)")
    print("   goal: outbox throughput >= 0.8x pipelined (time outbox/pipelined <= 1.25x)")
    await engine.dispose()
    await nc.close()


def report(name: str, ours: list[float], peer: list[float], peer_name: str) -> None:
    header(name, f"{len(ours):,} echo requests each side, alternating which goes first")
    print(f"   ours (ServiceClient.call -> serve): {percentile_line(ours)}")
    print(f"   {peer_name}: {percentile_line(peer)}")
    print(f"   ratio of medians ours/peer {statistics.median(ours) / statistics.median(peer):.2f}x")


def main() -> None:
    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        asyncio.run(bench_request_reply(nats_server.url))
        asyncio.run(bench_outbox(nats_server.url, pg))
