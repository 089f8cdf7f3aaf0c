"""Publishers and consumers live through a nats-server restart without losing acknowledged messages."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import ClassVar, cast

import httpx
import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.js.api import PubAck
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.consumer import ConsumerMetrics, DurableConsumer
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.migrations import create_outbox_and_inbox_sql, migrate
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.nats_permissions import ADMIN
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import STREAMS, ConsumerSpec, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import consumer_settled, eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

MIGRATIONS = Path(__file__).resolve().parents[4] / "services" / "market-data" / "migrations"


class Fill(Event):
    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "fill_probe"

    n: int


@pytest_asyncio.fixture
async def client(nats_url: str) -> AsyncIterator[NatsClient]:
    """A client that reconnects the way services do (every 0.25 s, forever)."""
    connection = await nats.connect(
        nats_url,
        reconnect_time_wait=cast(int, 0.25),
        max_reconnect_attempts=-1,
        connect_timeout=2,
        **admin_options(),
    )
    yield connection
    with contextlib.suppress(Exception):
        await connection.close()


async def publish_acked(publisher: EventPublisher, event: Fill, timeout: float = 20.0) -> PubAck:
    """Publish until JetStream acknowledges; a retry is safe because Nats-Msg-Id dedupes it."""
    envelope = Envelope.wrap(event, source="tradeloom/tests")
    subject = publisher.subjects.event("orders", "fill_probe", 1, "acct-1")
    async with asyncio.timeout(timeout):
        while True:
            try:
                return await publisher.publish_envelope(subject, envelope)
            except Exception:
                await asyncio.sleep(0.1)


async def test_nats_restart_loses_no_acknowledged_message(
    caplog: pytest.LogCaptureFixture,
    nats_server: NatsServer,
    client: NatsClient,
    db_engine: AsyncEngine,
    db_schema: str,
    nats_prefix: str,
) -> None:
    before, after = 40, 25
    subjects = Subjects(nats_prefix)
    js = client.jetstream()
    streams = tuple(spec for spec in STREAMS if spec.name in ("ORDERS", "DEAD_LETTERS"))
    await ensure_streams(js, subjects, streams=streams, consumers=())
    async with db_engine.begin() as connection:
        for statement in create_outbox_and_inbox_sql(db_schema):
            await connection.execute(text(statement))
        await connection.execute(
            text(f'CREATE TABLE "{db_schema}".effects (id serial PRIMARY KEY, event_id text NOT NULL)')
        )

    in_flight = asyncio.Event()
    server_down = asyncio.Event()

    async def apply(connection: AsyncConnection, envelope: Envelope) -> None:
        if envelope.unwrap(Fill).n == 5:  # this one commits while the server is down: its ack is lost
            in_flight.set()
            await server_down.wait()
        await connection.execute(
            text(f'INSERT INTO "{db_schema}".effects (event_id) VALUES (:id)'), {"id": envelope.id}
        )

    registry = CollectorRegistry()
    consumer = DurableConsumer(
        js=js,
        engine=db_engine,
        schema=db_schema,
        spec=ConsumerSpec("ORDERS", "fills_probe", "orders.evt.fill_probe.>", "probe", 10, (0.5, 1.0)),
        subjects=subjects,
        handler=apply,
        metrics=ConsumerMetrics(registry),
        batch_size=10,
        fetch_timeout_s=0.3,
    )

    async def effects() -> int:
        async with db_engine.connect() as connection:
            result = await connection.execute(text(f'SELECT count(*) FROM "{db_schema}".effects'))
            return int(result.scalar_one())

    publisher = EventPublisher(js, subjects, "tradeloom/tests", timeout_s=2.0)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        acks = [await publish_acked(publisher, Fill(n=n)) for n in range(before)]
        assert [ack.seq for ack in acks] == list(range(1, before + 1))
        await asyncio.wait_for(in_flight.wait(), timeout=10)

        reconnects = client.stats["reconnects"]
        await asyncio.to_thread(nats_server.stop, kill=True)
        try:
            server_down.set()
            # n=5 commits and its ack fails: the consumer says so, then the server may come back
            await eventually(lambda: any("could not settle" in r.getMessage() for r in caplog.records))
        finally:
            await asyncio.to_thread(nats_server.start)
        async with asyncio.timeout(20):
            while client.stats["reconnects"] <= reconnects or not client.is_connected:
                await asyncio.sleep(0.02)

        acks += [await publish_acked(publisher, Fill(n=n)) for n in range(before, before + after)]
        assert not any(ack.duplicate for ack in acks)
        assert len({ack.seq for ack in acks}) == before + after

        async with asyncio.timeout(30):
            while await effects() < before + after:
                assert not task.done(), f"the consumer loop ended: {task}"
                await asyncio.sleep(0.05)
        # every message acked, nothing left to deliver: nothing extra can still arrive
        await eventually(lambda: consumer_settled(js, subjects.stream("ORDERS"), "fills_probe"))
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    async with db_engine.connect() as connection:
        distinct = await connection.execute(
            text(f'SELECT count(DISTINCT event_id) FROM "{db_schema}".effects')
        )
        assert distinct.scalar_one() == before + after
    assert await effects() == before + after
    assert (await js.stream_info(subjects.stream("ORDERS"))).state.messages == before + after
    processed = registry.get_sample_value("tl_consumer_processed_total", {"consumer": "fills_probe"})
    assert processed == before + after
    # n=5 was committed but not acked: redelivered after the restart and absorbed by the inbox
    duplicates = registry.get_sample_value("tl_consumer_duplicates_total", {"consumer": "fills_probe"})
    assert duplicates is not None and duplicates >= 1
    info = await js.consumer_info(subjects.stream("ORDERS"), "fills_probe")
    assert info.num_pending == 0 and info.num_ack_pending == 0
    for name in ("ORDERS", "DEAD_LETTERS"):
        await js.delete_stream(subjects.stream(name))


async def test_outbox_relay_lives_through_a_nats_restart_in_order(
    nats_server: NatsServer,
    client: NatsClient,
    db_engine: AsyncEngine,
    db_schema: str,
    nats_prefix: str,
    database_url: str,
) -> None:
    subjects = Subjects(nats_prefix)
    js = client.jetstream()
    orders = tuple(spec for spec in STREAMS if spec.name == "ORDERS")
    await ensure_streams(js, subjects, streams=orders, consumers=())
    async with db_engine.begin() as connection:
        for statement in create_outbox_and_inbox_sql(db_schema):
            await connection.execute(text(statement))
    outbox = Outbox(db_schema, subjects, "tradeloom/tests")
    relay = OutboxRelay(
        db_engine, js, db_schema, database_url=database_url, poll_interval_s=0.2, publish_timeout_s=1.0
    )
    envelopes: list[Envelope] = []

    async def add(numbers: range) -> None:
        async with db_engine.begin() as connection:
            envelopes.extend([await outbox.add(connection, Fill(n=n), "acct-1") for n in numbers])

    async def unpublished() -> int:
        async with db_engine.connect() as connection:
            query = f'SELECT count(*) FROM "{db_schema}".outbox WHERE published_at IS NULL'
            return int((await connection.execute(text(query))).scalar_one())

    async def tried_while_down() -> bool:
        async with db_engine.connect() as connection:
            query = f'SELECT count(*) FROM "{db_schema}".outbox WHERE published_at IS NULL AND attempts > 0'
            return int((await connection.execute(text(query))).scalar_one()) > 0

    async def all_published(timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while await unpublished() > 0:
                await asyncio.sleep(0.05)

    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await add(range(10))
        await all_published(10)
        reconnects = client.stats["reconnects"]
        await asyncio.to_thread(nats_server.stop, kill=True)
        try:
            await add(range(10, 20))  # written while NATS is down: the relay fails and keeps them
            await eventually(tried_while_down, "the relay tried to publish during the outage")
            assert await unpublished() == 10
        finally:
            await asyncio.to_thread(nats_server.start)
        async with asyncio.timeout(20):
            while client.stats["reconnects"] <= reconnects or not client.is_connected:
                await asyncio.sleep(0.02)
        await add(range(20, 30))
        await all_published(20)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    info = await js.stream_info(subjects.stream("ORDERS"))
    assert info.state.messages == 30  # a publish that timed out yet landed was deduped on retry
    stored = [await js.get_msg(subjects.stream("ORDERS"), seq) for seq in range(1, 31)]
    assert [(m.headers or {}).get("Nats-Msg-Id") for m in stored] == [e.id for e in envelopes]
    async with db_engine.connect() as connection:
        attempts = await connection.execute(text(f'SELECT sum(attempts) FROM "{db_schema}".outbox'))
        assert (attempts.scalar_one() or 0) >= 1  # the outage was seen and recorded
    await js.delete_stream(subjects.stream("ORDERS"))


async def test_runtime_consumers_pause_while_postgres_is_down(
    pg_server: PostgresServer,
    database_url: str,
    nats_url: str,
    client: NatsClient,
    db_schema: str,
    nats_prefix: str,
) -> None:
    await asyncio.to_thread(migrate, database_url, db_schema, MIGRATIONS)
    subjects = Subjects(nats_prefix)
    js = client.jetstream()
    wanted = tuple(spec for spec in STREAMS if spec.name in ("ORDERS", "SYSTEM", "DEAD_LETTERS"))
    await ensure_streams(js, subjects, streams=wanted, consumers=())
    async with AsyncExitStack() as stack:
        settings = MarketDataSettings(
            database_url=database_url,
            nats_url=nats_url,
            db_schema=db_schema,
            nats_prefix=nats_prefix,
            environment="test",
            health_port=free_port(),
            startup_timeout_s=5.0,
            # a probe consumer on ORDERS, outside market-data's permissions: run as the admin
            nats_user=ADMIN,
            nats_password=os.environ["TL_NATS_PASSWORD"],
        )
        runtime = build(settings)
        applied: list[int] = []

        async def apply(connection: AsyncConnection, envelope: Envelope) -> None:
            await connection.execute(text("SELECT 1"))
            applied.append(envelope.unwrap(Fill).n)

        runtime.add_consumer(
            ConsumerSpec("ORDERS", "fills_paused", "orders.evt.fill_probe.>", "probe", 3, (0.3, 0.3)), apply
        )
        await runtime.start()
        stack.push_async_callback(runtime.stop)
        publisher = EventPublisher(js, subjects, "tradeloom/tests")
        base = f"http://127.0.0.1:{settings.health_port}"
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=5))

        async def readyz(status: int) -> None:
            async with asyncio.timeout(15):
                while (await http.get("/readyz")).status_code != status:
                    await asyncio.sleep(0.05)

        await readyz(200)
        await publish_acked(publisher, Fill(n=0))
        async with asyncio.timeout(10):
            while applied != [0]:
                await asyncio.sleep(0.02)

        await asyncio.to_thread(pg_server.stop)
        try:
            await readyz(503)  # also what the consumer loop consults before fetching
            for n in range(1, 6):
                await publish_acked(publisher, Fill(n=n))
            await asyncio.sleep(1.0)  # several backoff periods: nothing is tried, nothing dead-lettered
        finally:
            await asyncio.to_thread(pg_server.start)
        await readyz(200)
        async with asyncio.timeout(15):
            while sorted(applied) != list(range(6)):
                await asyncio.sleep(0.05)

        value = runtime.registry.get_sample_value
        async with asyncio.timeout(15):  # counted after the commit and ack, a moment after applied
            while value("tl_consumer_processed_total", {"consumer": "fills_paused"}) != 6:
                await asyncio.sleep(0.05)
        assert value("tl_consumer_dead_letters_total", {"consumer": "fills_paused"}) in (None, 0.0)
        assert (await js.stream_info(subjects.stream("DEAD_LETTERS"))).state.messages == 0
    for spec in wanted:
        await js.delete_stream(subjects.stream(spec.name))
