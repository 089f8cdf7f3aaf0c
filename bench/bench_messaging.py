"""Foundation messaging overheads, each against its bare peer in the same run.

- request/reply: ``ServiceClient.call`` → ``serve()`` (validation, error envelope, trace headers,
  nats.micro) against a bare nats-py ``request`` to a bare subscription answering the same bytes;
- event publish: the outbox (insert in a transaction + relay publish + mark) against a bare
  ``js.publish`` of the same envelopes.
Prints medians, p99 and the ratio ours/peer. Servers are real, started here and stopped after.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime

import nats
from pydantic import BaseModel

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

REQUESTS = 2000
EVENTS = 5000


class Echo(BaseModel):
    value: int


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
        started = time.perf_counter()
        await client.call("bench", "echo", Echo(value=i), Echo)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
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
    started = time.perf_counter()
    for start in range(0, EVENTS, 100):
        async with engine.begin() as connection:
            for _ in range(min(100, EVENTS - start)):
                await outbox.add(connection, event, "bench")
    relay = OutboxRelay(engine, js, "bench_outbox", database_url=pg.sqlalchemy_url(), batch_size=500)
    while await relay.relay_once():
        pass
    ours = time.perf_counter() - started
    publisher = EventPublisher(js, subjects, "tradeloom/bench")
    started = time.perf_counter()
    for _ in range(EVENTS):
        await publisher.publish(event, "bench")
    peer = time.perf_counter() - started
    await engine.dispose()
    await nc.close()
    print(
        f"outbox publish: {EVENTS / ours:,.0f} events/s (insert in tx + relay + mark) vs "
        f"{EVENTS / peer:,.0f} events/s direct js.publish; ratio ours/peer time {ours / peer:.2f}x"
    )


def report(name: str, ours: list[float], peer: list[float], peer_name: str) -> None:
    o50, p50 = statistics.median(ours) * 1e3, statistics.median(peer) * 1e3
    o99, p99 = percentile(ours, 0.99) * 1e3, percentile(peer, 0.99) * 1e3
    print(
        f"{name}: p50 {o50:.3f} ms, p99 {o99:.3f} ms; {peer_name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms; "
        f"ratio p50 {o50 / p50:.2f}x"
    )


def main() -> None:
    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        asyncio.run(bench_request_reply(nats_server.url))
        asyncio.run(bench_outbox(nats_server.url, pg))
