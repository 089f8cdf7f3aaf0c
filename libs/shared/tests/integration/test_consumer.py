"""DurableConsumer against real NATS and Postgres: effects once, retries, dead letters, crashes.

Also ``ensure_streams``: the declarations become real streams and consumers, idempotently.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.consumer import ConsumerMetrics, DurableConsumer, Handler
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.errors import PermanentError, TransientError
from tradeloom.shared.migrations import create_outbox_and_inbox_sql
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import STREAMS, ConsumerSpec, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SCRIPTS = Path(__file__).parent / "scripts"
TEST_STREAMS = tuple(spec for spec in STREAMS if spec.name in ("RISK", "DEAD_LETTERS"))


class Probe(Event):
    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "probe"

    n: int
    mode: str = "ok"


async def eventually(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "") -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)
    assert await predicate(), what


@dataclasses.dataclass
class World:
    """One test's namespace: subjects, schema with inbox and an ``effects`` table, metrics."""

    nc: NatsClient
    engine: AsyncEngine
    schema: str
    subjects: Subjects
    database_url: str
    nats_url: str
    registry: CollectorRegistry = dataclasses.field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.metrics = ConsumerMetrics(self.registry)

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    def spec(self, *, max_deliver: int = 4, backoff_s: tuple[float, ...] = (0.3, 0.3, 0.3)) -> ConsumerSpec:
        return ConsumerSpec(
            "RISK",
            f"probe_{uuid.uuid4().hex[:6]}",
            "risk.evt.probe.>",
            "probe reader",
            max_deliver,
            backoff_s,
        )

    def consumer(self, spec: ConsumerSpec, handler: Handler | None = None) -> DurableConsumer:
        return DurableConsumer(
            js=self.js,
            engine=self.engine,
            schema=self.schema,
            spec=spec,
            subjects=self.subjects,
            handler=handler or self.apply,
            metrics=self.metrics,
            fetch_timeout_s=0.2,
        )

    async def apply(self, connection: AsyncConnection, envelope: Envelope) -> None:
        await connection.execute(
            text(f'INSERT INTO "{self.schema}".effects (event_id, applied_by) VALUES (:id, :by)'),
            {"id": envelope.id, "by": "test"},
        )

    async def publish(self, *events: Probe) -> list[Envelope]:
        publisher = EventPublisher(self.js, self.subjects, "tradeloom/tests")
        return [(await publisher.publish(event, "acct-1"))[0] for event in events]

    async def scalar(self, sql: str) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(text(sql.replace("{s}", self.schema)))).scalar_one())

    async def effects(self) -> int:
        return await self.scalar('SELECT count(*) FROM "{s}".effects')

    def metric(self, name: str, consumer: DurableConsumer) -> float:
        return self.registry.get_sample_value(f"tl_consumer_{name}_total", {"consumer": consumer.name}) or 0.0

    async def dead_letters(self, count: int) -> list[Msg]:
        subscription = await self.js.pull_subscribe(
            self.subjects.pattern("dlq.>"), stream=self.subjects.stream("DEAD_LETTERS")
        )
        messages = await subscription.fetch(count, timeout=5)
        await subscription.unsubscribe()
        return messages


@pytest_asyncio.fixture
async def world(
    nc: NatsClient, db_engine: AsyncEngine, db_schema: str, nats_prefix: str, database_url: str, nats_url: str
) -> AsyncIterator[World]:
    async with db_engine.begin() as connection:
        for statement in create_outbox_and_inbox_sql(db_schema):
            await connection.execute(text(statement))
        await connection.execute(
            text(
                f'CREATE TABLE "{db_schema}".effects '
                "(id serial PRIMARY KEY, event_id text NOT NULL, applied_by text NOT NULL)"
            )
        )
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects, streams=TEST_STREAMS, consumers=())
    yield World(nc, db_engine, db_schema, subjects, database_url, nats_url)
    await delete_streams(nc, nats_prefix)


async def delete_streams(nc: NatsClient, prefix: str) -> None:
    if not nc.is_connected:
        return
    js = nc.jetstream()
    for info in await js.streams_info():
        if info.config.name and info.config.name.startswith(prefix.upper() + "_"):
            await js.delete_stream(info.config.name)


@contextlib.asynccontextmanager
async def running(*consumers: DurableConsumer) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(consumer.run(stop)) for consumer in consumers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


async def test_each_effect_applied_once(world: World) -> None:
    consumer = world.consumer(world.spec())
    envelopes = await world.publish(*(Probe(n=i) for i in range(5)))
    async with running(consumer):
        await eventually(lambda: _equals(world.effects(), 5))
        # the same envelope again, under another message id (e.g. re-sent after the dedupe
        # window): the inbox recognises it and nothing is applied twice
        again = envelopes[0]
        await world.js.publish(
            world.subjects.event("risk", "probe", 1, "acct-1"),
            again.to_bytes(),
            headers={"Nats-Msg-Id": "resent-" + again.id},
        )
        await eventually(lambda: _async(world.metric("duplicates", consumer) == 1))
    assert await world.effects() == 5
    assert await world.scalar('SELECT count(DISTINCT event_id) FROM "{s}".effects') == 5
    assert await world.scalar('SELECT count(*) FROM "{s}".inbox') == 5
    assert world.metric("processed", consumer) == 5
    info = await world.js.consumer_info(world.subjects.stream("RISK"), consumer.name)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_a_long_handler_keeps_its_message_with_in_progress_beats(world: World) -> None:
    """The handler runs for three ack waits while a second replica pulls: without in-progress
    beats JetStream would hand the message to the idle replica (a duplicate delivery)."""
    spec = world.spec(max_deliver=3, backoff_s=(0.4, 0.4))
    delivered: list[int] = []

    async def slow(connection: AsyncConnection, envelope: Envelope) -> None:
        await asyncio.sleep(1.2)
        await world.apply(connection, envelope)

    busy, idle = world.consumer(spec, slow), world.consumer(spec, slow)
    for replica in (busy, idle):
        original = replica.process

        async def counting(message: Msg, original: Callable[[Msg], Awaitable[None]] = original) -> None:
            delivered.append(message.metadata.num_delivered)
            await original(message)

        replica.process = counting  # type: ignore[method-assign]
    await world.publish(Probe(n=1))
    async with running(busy, idle):
        await eventually(lambda: _equals(world.effects(), 1))
        # acked and nothing pending: a (wrong) redelivery would have been handed out before the ack
        # and kept the message pending until processed, so every delivery is in ``delivered`` now
        await eventually(lambda: consumer_settled(world.js, world.subjects.stream("RISK"), busy.name))
    assert delivered == [1]
    assert world.metric("duplicates", busy) == 0


async def test_killed_between_commit_and_ack_does_not_apply_twice(world: World) -> None:
    spec = world.spec(max_deliver=5, backoff_s=(0.5, 0.5))
    [envelope] = await world.publish(Probe(n=1))
    config = {
        "nats_url": world.nats_url,
        "database_url": world.database_url,
        "schema": world.schema,
        "prefix": world.subjects.prefix,
        "spec": dataclasses.asdict(spec),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPTS / "consumer_dies_after_commit.py"),
        json.dumps(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=40)
    assert process.returncode == 1, output.decode(errors="replace")[-3000:]
    # the doomed process committed its effect and its inbox claim, but never acked
    assert await world.scalar("SELECT count(*) FROM \"{s}\".effects WHERE applied_by = 'doomed'") == 1
    assert await world.scalar('SELECT count(*) FROM "{s}".inbox') == 1
    claimed = await world.scalar(
        'SELECT count(*) FROM "{s}".inbox WHERE message_id = '
        + f"'{envelope.id}' AND consumer = '{spec.durable}'"
    )
    assert claimed == 1

    consumer = world.consumer(spec)
    async with running(consumer):
        await eventually(lambda: _async(world.metric("duplicates", consumer) == 1), what="redelivery")
    assert await world.effects() == 1
    assert await world.scalar('SELECT count(DISTINCT event_id) FROM "{s}".effects') == 1
    assert world.metric("processed", consumer) == 0
    info = await world.js.consumer_info(world.subjects.stream("RISK"), spec.durable)
    assert info.num_ack_pending == 0 and info.num_redelivered == 0  # acked on the redelivery
    assert info.delivered.stream_seq == 1 and info.ack_floor.stream_seq == 1


async def test_transient_error_is_retried_then_applied(world: World) -> None:
    attempts: list[int] = []

    async def flaky(connection: AsyncConnection, envelope: Envelope) -> None:
        await world.apply(connection, envelope)  # rolled back with the claim when we raise
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientError("exchange busy")

    consumer = world.consumer(world.spec(max_deliver=4, backoff_s=(0.2, 0.2, 0.2)), flaky)
    await world.publish(Probe(n=1))
    async with running(consumer):
        await eventually(lambda: _async(world.metric("processed", consumer) == 1))
    assert len(attempts) == 3
    assert world.metric("retries", consumer) == 2
    assert world.metric("dead_letters", consumer) == 0
    assert await world.effects() == 1
    assert await world.scalar('SELECT count(*) FROM "{s}".inbox') == 1


async def test_poison_message_is_dead_lettered_after_max_deliver(world: World) -> None:
    calls: list[int] = []

    async def poison(connection: AsyncConnection, envelope: Envelope) -> None:
        await world.apply(connection, envelope)
        calls.append(1)
        raise ValueError("price band exceeded for acct-1")

    consumer = world.consumer(world.spec(max_deliver=3, backoff_s=(0.2, 0.2)), poison)
    [envelope] = await world.publish(Probe(n=13, mode="poison"))
    async with running(consumer):
        await eventually(lambda: _async(world.metric("dead_letters", consumer) == 1))
        [dead] = await world.dead_letters(1)
    assert len(calls) == 3
    assert world.metric("retries", consumer) == 2
    original_subject = world.subjects.event("risk", "probe", 1, "acct-1")
    assert dead.subject == world.subjects.dead_letter(original_subject)
    assert dead.subject == f"{world.subjects.prefix}.dlq.risk.evt.probe.v1.acct-1"
    assert dead.metadata.stream == world.subjects.stream("DEAD_LETTERS")
    headers = dead.headers or {}
    assert "price band exceeded" in headers["tl-error"]
    assert headers["tl-error-code"] == "max_deliver"
    assert headers["tl-original-subject"] == original_subject
    assert headers["tl-consumer"] == consumer.name
    assert headers["tl-delivered"] == "3"
    assert headers["Nats-Msg-Id"] == f"dlq:{consumer.name}:{envelope.id}"
    assert Envelope.from_bytes(dead.data) == envelope  # the payload is kept as it was
    assert await world.effects() == 0  # every attempt was rolled back
    assert await world.scalar('SELECT count(*) FROM "{s}".inbox') == 0
    info = await world.js.consumer_info(world.subjects.stream("RISK"), consumer.name)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_permanent_error_is_dead_lettered_at_once(world: World) -> None:
    async def refuse(_: AsyncConnection, envelope: Envelope) -> None:
        raise PermanentError(f"unknown account in {envelope.id}")

    consumer = world.consumer(world.spec(), refuse)
    await world.publish(Probe(n=1))
    async with running(consumer):
        await eventually(lambda: _async(world.metric("dead_letters", consumer) == 1))
        [dead] = await world.dead_letters(1)
    headers = dead.headers or {}
    assert headers["tl-error-code"] == "permanent" and headers["tl-delivered"] == "1"
    assert world.metric("retries", consumer) == 0


async def test_unparsable_payload_is_dead_lettered_immediately(world: World) -> None:
    handled: list[Envelope] = []

    async def never(_: AsyncConnection, envelope: Envelope) -> None:
        handled.append(envelope)

    consumer = world.consumer(world.spec(), never)
    subject = world.subjects.event("risk", "probe", 1, "acct-9")
    ack = await world.js.publish(subject, b"{not an envelope")
    await world.publish(Probe(n=2))  # a good one behind it still flows
    async with running(consumer):
        await eventually(lambda: _async(world.metric("dead_letters", consumer) == 1 and len(handled) == 1))
        [dead] = await world.dead_letters(1)
    headers = dead.headers or {}
    assert dead.data == b"{not an envelope"
    assert headers["tl-error-code"] == "invalid_envelope"
    assert headers["tl-delivered"] == "1"
    assert headers["Nats-Msg-Id"] == f"dlq:{consumer.name}:seq-{ack.seq}"
    assert world.metric("retries", consumer) == 0
    assert world.metric("processed", consumer) == 1


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _async(value: bool) -> bool:
    return value
