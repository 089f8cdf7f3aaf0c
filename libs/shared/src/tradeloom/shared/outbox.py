"""The transactional outbox: write events in the caller's transaction; a relay publishes them.

The relay takes unpublished rows in ``FOR UPDATE SKIP LOCKED`` batches (so several replicas can
run it), publishes each with its event id as ``Nats-Msg-Id`` (pipelined: a window of publishes in
flight, their acks gathered together), and marks rows only after their publish ack. A relay that
dies between the two leaves rows unmarked; the next one republishes them with the same id, which
JetStream's duplicate window and the consumers' inboxes absorb.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import PubAck
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.db import check_schema_name, libpq_url
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.migrations import outbox_channel
from tradeloom.shared.publish import event_subject, make_envelope, publish_headers
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)


class Outbox:
    """Writes events into ``<schema>.outbox`` inside the caller's transaction."""

    def __init__(self, schema: str, subjects: Subjects, source: str) -> None:
        self.schema = check_schema_name(schema)
        self.subjects = subjects
        self.source = source

    async def add(self, connection: AsyncConnection, event: Event, *keys: str, **attributes: Any) -> Envelope:
        """Queue ``event`` for publication; it is sent only if the transaction commits."""
        envelope = make_envelope(event, self.source, **attributes)
        await self.add_envelope(connection, event_subject(self.subjects, event, *keys), envelope)
        return envelope

    async def add_envelope(self, connection: AsyncConnection, subject: str, envelope: Envelope) -> None:
        await connection.execute(
            text(
                f'INSERT INTO "{self.schema}".outbox (event_id, subject, payload, headers) '
                "VALUES (:event_id, :subject, :payload, CAST(:headers AS jsonb))"
            ),
            {
                "event_id": envelope.id,
                "subject": subject,
                "payload": envelope.to_bytes(),
                "headers": json.dumps(publish_headers(envelope)),
            },
        )

    async def add_many(
        self, connection: AsyncConnection, items: Sequence[tuple[Event, Sequence[str], dict[str, Any]]]
    ) -> list[Envelope]:
        """``add`` of each (event, keys, attributes) in one INSERT; rows (so publications) keep
        this order (a multi-row VALUES list is inserted, and numbered by ``seq``, in order)."""
        envelopes = [make_envelope(event, self.source, **attributes) for event, _, attributes in items]
        params: dict[str, Any] = {}
        for index, ((event, keys, _), envelope) in enumerate(zip(items, envelopes, strict=True)):
            params |= {
                f"event_id{index}": envelope.id,
                f"subject{index}": event_subject(self.subjects, event, *keys),
                f"payload{index}": envelope.to_bytes(),
                f"headers{index}": json.dumps(publish_headers(envelope)),
            }
        if envelopes:
            await connection.execute(_insert_many(self.schema, len(envelopes)), params)
        return envelopes


@lru_cache(maxsize=64)
def _insert_many(schema: str, count: int) -> TextClause:
    rows = ", ".join(
        f"(:event_id{i}, :subject{i}, :payload{i}, CAST(:headers{i} AS jsonb))" for i in range(count)
    )
    return text(f'INSERT INTO "{schema}".outbox (event_id, subject, payload, headers) VALUES {rows}')


class OutboxRelay:
    """Publishes outbox rows in order; woken by NOTIFY, polling as a fallback."""

    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        schema: str,
        *,
        database_url: str,
        registry: CollectorRegistry | None = None,
        batch_size: int = 200,
        poll_interval_s: float = 1.0,
        publish_timeout_s: float = 5.0,
        pipeline: int = 100,
        after_publish: Callable[[list[int]], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.js = js
        self.schema = check_schema_name(schema)
        self.database_url = database_url
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.publish_timeout_s = publish_timeout_s
        if pipeline < 1:
            raise ValueError("pipeline: at least 1")
        self.pipeline = pipeline
        # Fault-injection point for tests: runs after publishing, before marking rows.
        self.after_publish = after_publish
        self._wake = asyncio.Event()
        self.published = Counter(
            "tl_outbox_published", "Outbox events published", ["schema"], registry=registry
        )
        self.failures = Counter(
            "tl_outbox_publish_failures", "Outbox publish attempts that failed", ["schema"], registry=registry
        )

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published and marked."""
        s = self.schema
        async with self.engine.begin() as connection:
            rows = (
                await connection.execute(
                    text(
                        f'SELECT seq, event_id, subject, payload, headers FROM "{s}".outbox '
                        "WHERE published_at IS NULL ORDER BY seq LIMIT :limit FOR UPDATE SKIP LOCKED"
                    ),
                    {"limit": self.batch_size},
                )
            ).all()
            published, failed = await self._publish(rows)
            if failed is not None:  # the first failure is recorded; its row is retried next round
                row, error = failed
                self.failures.labels(s).inc()
                await connection.execute(
                    text(f'UPDATE "{s}".outbox SET attempts = attempts + 1, last_error = :e WHERE seq = :q'),
                    {"e": repr(error)[:500], "q": row.seq},
                )
                log.warning("outbox publish failed", extra={"event_id": row.event_id, "error": repr(error)})
            if self.after_publish is not None:
                await self.after_publish(published)
            if published:
                await connection.execute(
                    text(f'UPDATE "{s}".outbox SET published_at = now() WHERE seq = ANY(:seqs)'),
                    {"seqs": published},
                )
        self.published.labels(s).inc(len(published))
        return len(published)

    async def _publish(
        self, rows: Sequence[Row[Any]]
    ) -> tuple[list[int], tuple[Row[Any], BaseException] | None]:
        """Publish ``rows`` in windows of ``pipeline``; returns the acked seqs and the first failure.

        Within a window every message is written before any ack is awaited (one connection, so
        JetStream stores them in order), then the acks are gathered. On a failure the window's
        other acked rows are still returned (they are in the stream), and no further window is
        sent; the failed row is retried next round, so with ``pipeline > 1`` a row acked after a
        failed one precedes it in the stream. ``pipeline=1`` keeps strict order through failures.
        """
        published: list[int] = []
        for start in range(0, len(rows), self.pipeline):
            window = rows[start : start + self.pipeline]
            futures: list[asyncio.Future[PubAck]] = []
            not_sent: tuple[Row[Any], BaseException] | None = None
            for row in window:
                try:
                    future = await self.js.publish_async(  # the window is far below its stall limit
                        row.subject, bytes(row.payload), headers=dict(row.headers)
                    )
                except Exception as error:  # e.g. disconnected: nothing after it is sent either
                    not_sent = (row, error)
                    break
                futures.append(future)
            if futures:  # one timer for the whole window, not a task per ack
                _, late = await asyncio.wait(futures, timeout=self.publish_timeout_s)
                for future in late:
                    future.cancel()
            failed: tuple[Row[Any], BaseException] | None = None
            for row, future in zip(window, futures, strict=False):
                problem = TimeoutError("no publish ack") if future.cancelled() else future.exception()
                if problem is None:
                    published.append(row.seq)
                elif failed is None:
                    failed = (row, problem)
            failed = failed or not_sent
            if failed is not None:
                return published, failed
        return published, None

    async def _listen(self, stop: asyncio.Event) -> None:
        """Keep a LISTEN connection open (reconnecting) and set the wake flag on NOTIFY."""
        while not stop.is_set():
            try:
                connection = await asyncpg.connect(libpq_url(self.database_url), timeout=5)
            except Exception as error:
                log.debug("outbox listen connect failed: %r", error)
                await wait_for_stop(stop, self.poll_interval_s)
                continue
            try:
                await connection.add_listener(outbox_channel(self.schema), lambda *_: self._wake.set())
                self._wake.set()
                while not stop.is_set() and not connection.is_closed():
                    await wait_for_stop(stop, self.poll_interval_s)
            finally:
                await connection.close(timeout=2)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; survives NATS and Postgres outages."""
        listener = asyncio.create_task(self._listen(stop))
        try:
            while not stop.is_set():
                self._wake.clear()  # before the round, so a NOTIFY during it is not lost
                try:
                    sent = await self.relay_once()
                except Exception as error:
                    log.warning("outbox relay round failed: %r", error)
                    sent = 0
                if sent >= self.batch_size:
                    continue
                waiter = asyncio.create_task(self._wake.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait(
                    {waiter, stopper}, timeout=self.poll_interval_s, return_when="FIRST_COMPLETED"
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
