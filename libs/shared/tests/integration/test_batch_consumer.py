"""BatchConsumer against real NATS and Postgres: one transaction per fetched batch, still once per
message; a batch that fails is applied again one message at a time (only the bad one is dead-lettered)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ClassVar

import pytest
from nats.aio.client import Client as NatsClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.batch_consumer import BatchConsumer
from tradeloom.shared.consumer import ConsumerMetrics
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.migrations import create_outbox_and_inbox_sql
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import STREAMS, ConsumerSpec, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled, eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class BatchProbe(Event):
    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "probe"

    n: int
    bad: bool = False


class Bench:
    """One test's namespace: a schema with the inbox and an ``effects`` table, and a consumer."""

    def __init__(self, nc: NatsClient, engine: AsyncEngine, schema: str, subjects: Subjects) -> None:
        self.nc, self.engine, self.schema, self.subjects = nc, engine, schema, subjects
        self.registry = CollectorRegistry()
        self.batches: list[int] = []
        self.spec = ConsumerSpec(
            "RISK", f"batch_{uuid.uuid4().hex[:6]}", "risk.evt.probe.>", "batch probe", 4, (0.3, 0.3, 0.3)
        )
        self.consumer = BatchConsumer(
            js=nc.jetstream(),
            engine=engine,
            schema=schema,
            spec=self.spec,
            subjects=subjects,
            batch_handler=self.apply,
            metrics=ConsumerMetrics(self.registry),
            fetch_timeout_s=0.2,
        )

    async def apply(self, connection: AsyncConnection, envelopes: list[Envelope]) -> None:
        self.batches.append(len(envelopes))
        for envelope in envelopes:
            if envelope.unwrap(BatchProbe).bad:
                raise PermanentError("a probe that can never apply")
            await connection.execute(
                text(f'INSERT INTO "{self.schema}".effects (event_id) VALUES (:id)'), {"id": envelope.id}
            )

    async def publish(self, *events: BatchProbe) -> list[Envelope]:
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/tests")
        return [(await publisher.publish(event, "acct-1"))[0] for event in events]

    async def count(self, table: str) -> int:
        async with self.engine.connect() as connection:
            return int(
                (await connection.execute(text(f'SELECT count(*) FROM "{self.schema}".{table}'))).scalar_one()
            )

    def metric(self, name: str) -> float:
        labels = {"consumer": self.spec.durable}
        return self.registry.get_sample_value(f"tl_consumer_{name}_total", labels) or 0.0

    async def settled(self) -> bool:
        try:
            return await consumer_settled(
                self.nc.jetstream(), self.subjects.stream("RISK"), self.spec.durable
            )
        except Exception:  # the consumer is not created yet
            return False


@pytest.fixture
async def bench(
    nc: NatsClient, db_engine: AsyncEngine, db_schema: str, nats_prefix: str
) -> AsyncIterator[Bench]:
    async with db_engine.begin() as connection:
        for statement in create_outbox_and_inbox_sql(db_schema):
            await connection.execute(text(statement))
        await connection.execute(text(f'CREATE TABLE "{db_schema}".effects (event_id text PRIMARY KEY)'))
    subjects = Subjects(nats_prefix)
    streams = tuple(spec for spec in STREAMS if spec.name in ("RISK", "DEAD_LETTERS"))
    await ensure_streams(nc.jetstream(), subjects, streams=streams, consumers=())
    yield Bench(nc, db_engine, db_schema, subjects)


async def run_until(bench: Bench, condition: Callable[[], Awaitable[bool]]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(bench.consumer.run(stop))
    try:
        await eventually(condition, "the consumer settled")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_a_fetched_batch_is_one_transaction_and_each_message_applies_once(bench: Bench) -> None:
    envelopes = await bench.publish(*(BatchProbe(n=i) for i in range(5)))
    # the first message again under another stream id (a re-send after the dedupe window)
    again = envelopes[0]
    await bench.nc.jetstream().publish(
        bench.subjects.event("risk", "probe", 1, "acct-1"), again.to_bytes(), headers={"Nats-Msg-Id": "again"}
    )
    await run_until(bench, bench.settled)
    assert bench.batches == [5]  # six messages in one fetch: one handler call, the repeat left out
    assert await bench.count("effects") == 5
    assert await bench.count("inbox") == 5
    assert bench.metric("processed") == 5 and bench.metric("duplicates") == 1


async def test_a_failing_batch_is_applied_one_by_one_and_only_the_bad_message_is_dead_lettered(
    bench: Bench,
) -> None:
    await bench.publish(BatchProbe(n=1), BatchProbe(n=2, bad=True), BatchProbe(n=3))

    async def done() -> bool:
        return bench.metric("dead_letters") == 1 and await bench.settled()

    await run_until(bench, done)
    assert bench.batches == [3, 1, 1, 1]  # the batch rolled back, then each message on its own
    assert await bench.count("effects") == 2
    assert await bench.count("inbox") == 2
    assert bench.metric("processed") == 2


async def test_with_gather_s_a_trickle_joins_the_first_messages_batch(bench: Bench) -> None:
    """``gather_s``: messages published after the first was fetched still join its batch (the fetch
    returns as soon as the batch is full, so the long window costs nothing here)."""
    bench.consumer.gather_s = 30.0
    bench.consumer.batch_size = 3
    js = bench.nc.jetstream()
    stop = asyncio.Event()
    task = asyncio.create_task(bench.consumer.run(stop))
    try:
        await bench.publish(BatchProbe(n=1))

        async def first_taken() -> bool:
            try:
                info = await js.consumer_info(bench.subjects.stream("RISK"), bench.spec.durable)
            except Exception:  # the consumer is not created yet
                return False
            return info.num_ack_pending == 1

        await eventually(first_taken, "the first message fetched, not yet applied")
        await bench.publish(BatchProbe(n=2), BatchProbe(n=3))
        await eventually(bench.settled, "the consumer settled")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert bench.batches == [3]
    assert await bench.count("effects") == 3


async def test_a_probe_takes_the_batches_it_can_without_a_transaction_and_hands_on_the_rest(
    bench: Bench,
) -> None:
    """Even probes are taken by the probe (no inbox claim, no handler); odd ones it declines, and
    a probe that raises declines too: both go down the transaction path, each once."""
    probed: list[int] = []

    async def probe(connection: AsyncConnection, envelopes: list[Envelope]) -> bool:
        numbers = [envelope.unwrap(BatchProbe).n for envelope in envelopes]
        if any(n == 3 for n in numbers):
            raise RuntimeError("the probe's database call failed")
        if all(n % 2 == 0 for n in numbers):
            probed.extend(numbers)
            return True
        return False

    bench.consumer.probe = probe
    await bench.publish(BatchProbe(n=0))
    await run_until(bench, bench.settled)
    await bench.publish(*(BatchProbe(n=i) for i in (1, 2, 3)))
    await run_until(bench, bench.settled)
    assert probed == [0]  # taken without a transaction
    assert await bench.count("inbox") == 3 and await bench.count("effects") == 3  # 1, 2, 3 once each
    assert bench.metric("processed") == 4.0
