"""Foundation messaging overheads, each against its bare peer in the same run.

- request/reply: ``ServiceClient.call`` → ``serve()`` (validation, error envelope, trace headers,
  nats.micro) against a bare nats-py ``request`` to a bare subscription answering the same bytes;
- event publish: the outbox relay (publish + mark; rows inserted untimed before each round), the
  same relay one publish at a time, and the whole outbox (insert + relay) against publishing the
  same envelopes to the same stream one at a time and pipelined (``publish_async``, windows of 100
  in flight, acks gathered), interleaved over rotating rounds (bench.harness).
Request/reply alternates which side goes first; p99 from 10,000 samples each. Servers are real,
started here and stopped after.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import nats
from pydantic import BaseModel

from bench.harness import AsyncContender, header, interleaved_async, percentile_line
from bench.harness import report as report_timings
from tradeloom.shared.contracts.system import ServiceStarted
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import create_outbox_and_inbox_sql
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.publish import EventPublisher, event_subject, make_envelope, publish_headers
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


async def bench_outbox(url: str, pg: PostgresServer, sync: str) -> None:
    nc = await nats.connect(url)
    subjects = Subjects("benchout")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    pg.execute("DROP SCHEMA IF EXISTS bench_outbox CASCADE", "CREATE SCHEMA bench_outbox",
               *create_outbox_and_inbox_sql("bench_outbox"))  # fmt: skip
    engine = create_engine(pg.sqlalchemy_url())
    outbox = Outbox("bench_outbox", subjects, "tradeloom/bench")
    event = ServiceStarted(service="bench", version="1", instance_id="b", started_at=datetime.now(UTC))
    publisher = EventPublisher(js, subjects, "tradeloom/bench")
    subject = event_subject(subjects, event, "bench")

    def relay(pipeline: int) -> OutboxRelay:
        return OutboxRelay(engine, js, "bench_outbox", database_url=pg.sqlalchemy_url(),
                           batch_size=500, pipeline=pipeline)  # fmt: skip

    relays = {n: relay(n) for n in (1, PIPELINE)}

    async def fill() -> None:
        for start in range(0, EVENTS, 100):
            async with engine.begin() as connection:
                for _ in range(min(100, EVENTS - start)):
                    await outbox.add(connection, event, "bench")

    def drain(pipeline: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            while await relays[pipeline].relay_once():
                pass

        return run

    async def outbox_e2e() -> None:
        await fill()
        await drain(PIPELINE)()

    async def one_at_a_time() -> None:
        for _ in range(EVENTS):
            await publisher.publish(event, "bench")

    async def pipelined() -> None:
        # the honest peer: a window of publish_async futures in flight, their acks gathered
        for start in range(0, EVENTS, PIPELINE):
            futures = []
            for _ in range(min(PIPELINE, EVENTS - start)):
                envelope = make_envelope(event, "tradeloom/bench")
                futures.append(await js.publish_async(subject, envelope.to_bytes(),
                                                      headers=publish_headers(envelope)))  # fmt: skip
            await asyncio.gather(*futures)

    header(
        f"event publish, {EVENTS:,} events a round",
        f"ServiceStarted envelopes to one JetStream stream (file storage, {sync}, 2 min dedup window)",
    )
    timings = await interleaved_async([
        AsyncContender("relay", drain(PIPELINE), f"OutboxRelay.relay_once, batches of 500, {PIPELINE} "
                       "in flight (rows inserted untimed before each round)", setup=fill),
        AsyncContender("relay_serial", drain(1), "OutboxRelay.relay_once, pipeline=1 (the relay before "
                       "pipelining: each ack awaited)", setup=fill),
        AsyncContender("outbox_e2e", outbox_e2e, "Outbox.add, 100-event transactions + the pipelined relay"),
        AsyncContender("one_by_one", one_at_a_time, "EventPublisher.publish, each ack awaited"),
        AsyncContender("pipelined", pipelined, f"js.publish_async, windows of {PIPELINE}, acks gathered"),
    ])  # fmt: skip
    report_timings(timings, base="pipelined", scale=1.0, unit="s")
    for name, t in timings.items():
        print(f"   {name}: {EVENTS / t.median:,.0f} events/s (median round)")
    print("   goal: relay throughput >= 0.8x pipelined (time relay/pipelined <= 1.25x)")
    await engine.dispose()
    await nc.close()


def report(name: str, ours: list[float], peer: list[float], peer_name: str) -> None:
    header(name, f"{len(ours):,} echo requests each side, alternating which goes first")
    print(f"   ours (ServiceClient.call -> serve): {percentile_line(ours)}")
    print(f"   {peer_name}: {percentile_line(peer)}")
    print(f"   ratio of medians ours/peer {statistics.median(ours) / statistics.median(peer):.2f}x")


def main() -> None:
    """All parts, or some of ``rpc`` / ``outbox`` / ``outbox-nosync`` given as arguments."""
    parts = sys.argv[1:] or ["rpc", "outbox"]
    # without NATS users: these clients measure the transport, not who may use it
    with PostgresServer() as pg:
        with NatsServer(auth=False) as nats_server:
            if "rpc" in parts:
                asyncio.run(bench_request_reply(nats_server.url))
            if "outbox" in parts:
                asyncio.run(bench_outbox(nats_server.url, pg, "sync_interval: always (as deployed)"))
        if "outbox" in parts or "outbox-nosync" in parts:
            # fsync before every ack bounds every contender alike (pipelining gains nothing there);
            # without it the same contenders show what pipelining itself is worth
            with NatsServer(auth=False, sync_always=False) as nats_server:
                asyncio.run(bench_outbox(nats_server.url, pg, "default sync_interval (2 min)"))


if __name__ == "__main__":
    main()
