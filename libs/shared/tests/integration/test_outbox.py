"""The transactional outbox and its relay against real Postgres and NATS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.consumer import ConsumerMetrics, DurableConsumer
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.migrations import create_outbox_and_inbox_sql, outbox_channel
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.streams import STREAMS, ConsumerSpec, StreamSpec, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SCRIPTS = Path(__file__).parent / "scripts"


class Breach(Event):
    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "breach"

    n: int


async def eventually(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


class Box:
    """One test's outbox: a schema with outbox/inbox/effects and the RISK stream in a namespace."""

    def __init__(
        self,
        nc: NatsClient,
        engine: AsyncEngine,
        schema: str,
        subjects: Subjects,
        database_url: str,
        nats_url: str,
    ) -> None:
        self.nc = nc
        self.nats_url = nats_url
        self.engine = engine
        self.schema = schema
        self.subjects = subjects
        self.database_url = database_url
        self.outbox = Outbox(schema, subjects, "tradeloom/tests")
        self.stream = subjects.stream("RISK")

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    def relay(self, **options: object) -> OutboxRelay:
        return OutboxRelay(self.engine, self.js, self.schema, database_url=self.database_url, **options)  # type: ignore[arg-type]

    async def add(self, *numbers: int) -> list[Envelope]:
        async with self.engine.begin() as connection:
            return [await self.outbox.add(connection, Breach(n=n), "acct-1") for n in numbers]

    async def scalar(self, sql: str) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(text(sql.replace("{s}", self.schema)))).scalar_one())

    async def unpublished(self) -> int:
        return await self.scalar('SELECT count(*) FROM "{s}".outbox WHERE published_at IS NULL')

    async def stream_messages(self) -> int:
        return int((await self.js.stream_info(self.stream)).state.messages)

    async def stream_contents(self) -> list[tuple[str, bytes]]:
        count = await self.stream_messages()
        contents = []
        for seq in range(1, count + 1):
            message = await self.js.get_msg(self.stream, seq)
            contents.append(((message.headers or {}).get("Nats-Msg-Id", ""), message.data or b""))
        return contents


@pytest_asyncio.fixture
async def box(
    nc: NatsClient, db_engine: AsyncEngine, db_schema: str, nats_prefix: str, database_url: str, nats_url: str
) -> AsyncIterator[Box]:
    async with db_engine.begin() as connection:
        for statement in create_outbox_and_inbox_sql(db_schema):
            await connection.execute(text(statement))
        await connection.execute(
            text(f'CREATE TABLE "{db_schema}".effects (id serial PRIMARY KEY, event_id text NOT NULL)')
        )
    subjects = Subjects(nats_prefix)
    streams = tuple(spec for spec in STREAMS if spec.name in ("RISK", "DEAD_LETTERS"))
    await ensure_streams(nc.jetstream(), subjects, streams=streams, consumers=())
    yield Box(nc, db_engine, db_schema, subjects, database_url, nats_url)
    if nc.is_connected:
        for info in await nc.jetstream().streams_info():
            if info.config.name and info.config.name.startswith(nats_prefix.upper() + "_"):
                await nc.jetstream().delete_stream(info.config.name)


@contextlib.asynccontextmanager
async def running(*loops: Callable[[asyncio.Event], Awaitable[None]]) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop(stop)) for loop in loops]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


async def test_rolled_back_events_are_never_published(box: Box) -> None:
    with pytest.raises(RuntimeError):
        async with box.engine.begin() as connection:
            for n in range(3):
                await box.outbox.add(connection, Breach(n=n), "acct-1")
            raise RuntimeError("the business change failed")
    committed = await box.add(10, 11)
    relay = box.relay()
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0
    assert await box.scalar('SELECT count(*) FROM "{s}".outbox') == 2
    assert [msg_id for msg_id, _ in await box.stream_contents()] == [e.id for e in committed]


async def test_committed_events_published_in_order_with_msg_id(box: Box) -> None:
    envelopes = []
    for start in range(0, 12, 4):  # several transactions
        envelopes += await box.add(*range(start, start + 4))
    relay = box.relay(batch_size=5)
    assert [await relay.relay_once() for _ in range(4)] == [5, 5, 2, 0]
    contents = await box.stream_contents()
    assert [msg_id for msg_id, _ in contents] == [e.id for e in envelopes]
    assert [Envelope.from_bytes(data) for _, data in contents] == envelopes
    assert [Envelope.from_bytes(data).unwrap(Breach).n for _, data in contents] == list(range(12))
    assert await box.unpublished() == 0
    message = await box.js.get_msg(box.stream, 1)
    assert message.subject == box.subjects.event("risk", "breach", 1, "acct-1")
    assert (message.headers or {})["tl-type"] == "tradeloom.risk.breach.v1"


async def test_add_many_writes_its_events_in_one_statement_in_order(box: Box) -> None:
    """``add_many``: the events of one call publish in the order given, each with its own keys,
    subject attribute and message id, after those added before; nothing when it rolls back."""
    with pytest.raises(RuntimeError):
        async with box.engine.begin() as connection:
            await box.outbox.add_many(connection, [(Breach(n=99), ("acct-1",), {})])
            raise RuntimeError("the business change failed")
    first = await box.add(1)
    async with box.engine.begin() as connection:
        items = [(Breach(n=n), (f"acct-{n}",), {"subject": f"order-{n}"}) for n in (2, 3, 4)]
        many = await box.outbox.add_many(connection, items)
        assert await box.outbox.add_many(connection, []) == []
    relay = box.relay()
    assert await relay.relay_once() == 4
    contents = await box.stream_contents()
    assert [msg_id for msg_id, _ in contents] == [e.id for e in first + many]
    assert [Envelope.from_bytes(data).unwrap(Breach).n for _, data in contents] == [1, 2, 3, 4]
    assert [e.subject for e in many] == ["order-2", "order-3", "order-4"]
    message = await box.js.get_msg(box.stream, 4)
    assert message.subject == box.subjects.event("risk", "breach", 1, "acct-4")


async def test_failed_publish_keeps_order_and_is_retried(box: Box) -> None:
    first = await box.add(1)
    orphan = Envelope.wrap(Breach(n=2), source="tradeloom/tests")
    async with box.engine.begin() as connection:  # a subject no stream captures yet
        await box.outbox.add_envelope(connection, box.subjects.pattern("risk.audit.breach"), orphan)
    last = await box.add(3)
    relay = box.relay(pipeline=1)  # one publish in flight: strict order through failures
    assert await relay.relay_once() == 1  # stops at the failure: nothing overtakes it
    assert await box.stream_messages() == 1
    row = await box.scalar('SELECT attempts FROM "{s}".outbox WHERE event_id = ' + f"'{orphan.id}'")
    assert row == 1
    assert await box.unpublished() == 2

    widened = StreamSpec("RISK", ("risk.evt.>", "risk.audit.>"), "risk events")
    await ensure_streams(box.js, box.subjects, streams=(widened,), consumers=())
    assert await relay.relay_once() == 2
    assert [msg_id for msg_id, _ in await box.stream_contents()] == [first[0].id, orphan.id, last[0].id]


async def test_pipelined_failure_marks_only_acked_rows_and_retries_the_failed_one(box: Box) -> None:
    first = await box.add(1, 2)
    orphan = Envelope.wrap(Breach(n=3), source="tradeloom/tests")
    async with box.engine.begin() as connection:  # a subject no stream captures yet
        await box.outbox.add_envelope(connection, box.subjects.pattern("risk.audit.breach"), orphan)
    after = await box.add(4, 5)
    later = await box.add(6)
    relay = box.relay(pipeline=5)  # the orphan fails inside the first window of five
    assert await relay.relay_once() == 4  # the window's acked rows are marked; no next window
    assert await box.unpublished() == 2  # the orphan and the row of the window not sent
    assert await box.stream_messages() == 4

    widened = StreamSpec("RISK", ("risk.evt.>", "risk.audit.>"), "risk events")
    await ensure_streams(box.js, box.subjects, streams=(widened,), consumers=())
    assert await relay.relay_once() == 2
    ids = [msg_id for msg_id, _ in await box.stream_contents()]
    # each exactly once; the rows acked behind the failed one precede it (pipeline > 1)
    assert ids == [e.id for e in first + after] + [orphan.id, later[0].id]


async def test_relay_killed_after_publish_does_not_duplicate_downstream(box: Box) -> None:
    envelopes = await box.add(*range(5))
    config = {"nats_url": box.nats_url, "database_url": box.database_url, "schema": box.schema}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPTS / "relay_dies_after_publish.py"),
        json.dumps(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=40)
    assert process.returncode == 1, output.decode(errors="replace")[-3000:]
    assert await box.stream_messages() == 5  # published and acked ...
    assert await box.unpublished() == 5  # ... but never marked

    # an in-process relay dying the same way (the hook raises) changes nothing either
    async def boom(_: list[int]) -> None:
        raise ConnectionResetError("relay lost its database connection")

    with pytest.raises(ConnectionResetError):
        await box.relay(after_publish=boom).relay_once()
    assert await box.unpublished() == 5

    assert await box.relay().relay_once() == 5  # a fresh relay republishes with the same ids
    assert await box.unpublished() == 0
    contents = await box.stream_contents()
    assert [msg_id for msg_id, _ in contents] == [e.id for e in envelopes]  # one copy each

    registry = CollectorRegistry()

    async def apply(connection: AsyncConnection, envelope: Envelope) -> None:
        await connection.execute(
            text(f'INSERT INTO "{box.schema}".effects (event_id) VALUES (:id)'), {"id": envelope.id}
        )

    consumer = DurableConsumer(
        js=box.js,
        engine=box.engine,
        schema=box.schema,
        spec=ConsumerSpec("RISK", "downstream", "risk.evt.breach.>", "downstream", 3, (0.5, 0.5)),
        subjects=box.subjects,
        handler=apply,
        metrics=ConsumerMetrics(registry),
        fetch_timeout_s=0.2,
    )

    async def effects() -> bool:
        return await box.scalar('SELECT count(*) FROM "{s}".effects') == 5

    async with running(consumer.run):
        await eventually(effects)
        # every delivery acked: no redelivery can still add an effect (a barrier, not a sleep)
        await eventually(lambda: consumer_settled(box.js, box.stream, "downstream"))
    assert await box.scalar('SELECT count(DISTINCT event_id) FROM "{s}".effects') == 5
    assert await box.scalar('SELECT count(*) FROM "{s}".effects') == 5
    assert registry.get_sample_value("tl_consumer_processed_total", {"consumer": "downstream"}) == 5


async def test_notify_wakes_the_relay_at_once(box: Box) -> None:
    relay = box.relay(poll_interval_s=30.0)
    subject = box.subjects.event("risk", "breach", 1, "acct-1")
    arrived: asyncio.Queue[object] = asyncio.Queue()

    async def on_message(message: object) -> None:
        arrived.put_nowait(message)

    subscription = await box.nc.subscribe(subject, cb=on_message)
    channel = outbox_channel(box.schema)

    async def listening() -> bool:
        sql = (
            f"SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND query ILIKE 'LISTEN %{channel}%'"
        )
        return await box.scalar(sql) == 1

    try:
        async with running(relay.run):
            await eventually(listening)
            for n in range(3):
                await box.add(n)
                # far below the 30 s poll interval: only the NOTIFY can have woken the relay (the
                # latency itself is a benchmark, not a test: bench/bench_latencies.py)
                await asyncio.wait_for(arrived.get(), timeout=15)
    finally:
        await subscription.unsubscribe()
    assert await box.unpublished() == 0


async def test_two_relays_publish_each_row_exactly_once(box: Box) -> None:
    total = 150
    async with box.engine.begin() as connection:
        for n in range(total):
            await box.outbox.add(connection, Breach(n=n), "acct-1")
    seen: list[str] = []

    async def on_message(message: object) -> None:
        seen.append(message.headers["Nats-Msg-Id"])  # type: ignore[attr-defined]

    # a core subscription sees every publish, including ones JetStream would drop as duplicates
    subscription = await box.nc.subscribe(box.subjects.event("risk", "breach", 1, "acct-1"), cb=on_message)
    relays = [box.relay(batch_size=7), box.relay(batch_size=7)]
    counts = [0, 0]

    async def drain(index: int) -> None:
        while await box.unpublished() > 0:
            counts[index] += await relays[index].relay_once()

    try:
        await asyncio.wait_for(asyncio.gather(drain(0), drain(1)), timeout=30)
        await box.nc.flush()
        await eventually(lambda: _async(len(seen) >= total))
        await box.nc.flush()  # a round trip after the last publish: any extra copy has arrived
    finally:
        await subscription.unsubscribe()
    assert sum(counts) == total
    assert all(count > 0 for count in counts), counts  # both relays really took part
    assert len(seen) == total and len(set(seen)) == total
    assert await box.stream_messages() == total


async def _async(value: bool) -> bool:
    return value
