"""The durable pull-consumer loop: inbox claim + effect in one transaction, commit, then ack.

For each message: claim its id in ``<schema>.inbox`` and run the handler in the same
transaction, commit, then ``ack_sync``. A redelivery (JetStream redelivers after crashes) finds
the claim and is acked without effect. Transient failures are nak'ed with backoff; a message
that fails on its last allowed delivery, or can never succeed, goes to ``dlq.<subject>`` with
its error in headers and is then acked, so nothing is silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import correlation_id_var
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.settle import bind_pull, dead_letter, retry_delay
from tradeloom.shared.streams import ConsumerSpec
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import extract_trace, tracer

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


class ConsumerMetrics:
    """Counters of one registry, shared by every consumer of a process."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        labels = ["consumer"]
        self.processed = Counter("tl_consumer_processed", "Messages applied", labels, registry=registry)
        self.duplicates = Counter(
            "tl_consumer_duplicates", "Redeliveries acked without effect", labels, registry=registry
        )
        self.retries = Counter("tl_consumer_retries", "Messages nak'ed for retry", labels, registry=registry)
        self.dead_letters = Counter(
            "tl_consumer_dead_letters", "Messages sent to the dead-letter subject", labels, registry=registry
        )
        self.pending = Gauge(
            "tl_consumer_pending",
            "Messages in the stream not yet delivered (consumer lag)",
            labels,
            registry=registry,
        )


class DurableConsumer:
    """Runs ``handler`` exactly once per message id of a durable pull consumer."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        engine: AsyncEngine,
        schema: str,
        spec: ConsumerSpec,
        subjects: Subjects,
        handler: Handler,
        metrics: ConsumerMetrics,
        batch_size: int = 50,
        fetch_timeout_s: float = 1.0,
        after_commit: Callable[[Envelope], Awaitable[None]] | None = None,
    ) -> None:
        self.js = js
        self.engine = engine
        self.schema = check_schema_name(schema)
        self.spec = spec
        self.subjects = subjects
        self.handler = handler
        self.metrics = metrics
        self.batch_size = batch_size
        self.fetch_timeout_s = fetch_timeout_s
        # Fault-injection point for tests: runs after the commit, before the ack.
        self.after_commit = after_commit

    @property
    def name(self) -> str:
        return self.spec.durable

    async def run(self, stop: asyncio.Event, ready: Callable[[], bool] = lambda: True) -> None:
        """Fetch and process until ``stop``; pauses while ``ready()`` is false (e.g. database down)."""
        subscription = None
        while not stop.is_set():
            try:
                if subscription is None:
                    subscription = await bind_pull(self.js, self.spec, self.subjects)
                if not ready():
                    await asyncio.sleep(0.5)
                    continue
                messages = await self._next_batch(subscription)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except Exception as error:
                log.warning("consumer %s fetch failed: %r", self.name, error)
                await asyncio.sleep(0.5)
                continue
            if messages:
                self.metrics.pending.labels(self.name).set(messages[-1].metadata.num_pending)
                await self.process_fetched(messages)
        if subscription is not None:
            await subscription.unsubscribe()

    async def process_fetched(self, messages: list[Msg]) -> None:
        """Apply a fetched batch, one message (and one transaction) after the other."""
        for message in messages:
            try:
                await self.process(message)
            except Exception as error:
                # The ack/nak was lost (NATS restarting): the effect, if any, is committed with
                # its inbox claim, so the redelivery is acked without effect. Drop the rest of
                # the batch too; JetStream redelivers it after ack_wait.
                log.warning("consumer %s could not settle a message: %r", self.name, error)
                break

    async def _next_batch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait (up to ``fetch_timeout_s``) for one message, then take at once up to ``batch_size``
        of those already waiting.

        ``fetch(n)`` alone, once it had to wait for a first message, keeps waiting for all ``n`` or
        the timeout: a trickle of messages (a quiet market's trades) would each wait up to
        ``fetch_timeout_s`` before being handled.
        """
        messages = await subscription.fetch(1, timeout=self.fetch_timeout_s)
        waiting = min(self.batch_size - 1, messages[-1].metadata.num_pending) if messages else 0
        if waiting > 0:  # available now: fetch returns as soon as it has them
            with contextlib.suppress(nats.errors.TimeoutError, TimeoutError):
                messages += await subscription.fetch(waiting, timeout=self.fetch_timeout_s)
        return messages

    async def process(self, message: Msg) -> None:
        """Apply one message once, then acknowledge it (or retry, or dead-letter it)."""
        try:
            envelope = Envelope.from_bytes(message.data)
        except ValidationError as error:
            await self._dead_letter(message, "invalid_envelope", str(error))
            return
        delivered = message.metadata.num_delivered
        correlation = correlation_id_var.set(envelope.correlationid or envelope.id)
        span_name = f"consume {self.subjects.strip(message.subject)}"
        try:
            with tracer().start_as_current_span(
                span_name, context=extract_trace(message.headers), kind=trace.SpanKind.CONSUMER
            ):
                try:
                    async with self._working(message):
                        applied = await self._apply(envelope, message.subject)
                except PermanentError as error:
                    await self._dead_letter(message, "permanent", str(error))
                    return
                except Exception as error:
                    if 0 < self.spec.max_deliver <= delivered:
                        await self._dead_letter(message, "max_deliver", repr(error))
                    else:
                        await self._retry(message, delivered, error)
                    return
                # counted at commit: an effect whose ack is then lost was still applied (once)
                (self.metrics.processed if applied else self.metrics.duplicates).labels(self.name).inc()
                if self.after_commit is not None:
                    await self.after_commit(envelope)
                await message.ack_sync()
        finally:
            correlation_id_var.reset(correlation)

    @contextlib.asynccontextmanager
    async def _working(self, message: Msg) -> AsyncIterator[None]:
        """Tell JetStream the message is in progress every half ack-wait while the handler runs.

        A long handler (a backtest, a sandbox job) then keeps its message, while a crashed
        worker's message is redelivered after one short ack wait.
        """
        ack_wait = self.spec.backoff_s[0] if self.spec.backoff_s else 30.0
        interval = max(0.2, ack_wait / 2)

        async def beat() -> None:
            while True:
                await asyncio.sleep(interval)
                with contextlib.suppress(Exception):  # a missed beat only risks a redelivery
                    await message.in_progress()

        heartbeat = asyncio.create_task(beat())
        try:
            yield
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _apply(self, envelope: Envelope, subject: str) -> bool:
        """Claim the id and run the handler in one transaction; False when already claimed."""
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                text(
                    f'INSERT INTO "{self.schema}".inbox (consumer, message_id, subject) '
                    "VALUES (:consumer, :id, :subject) ON CONFLICT DO NOTHING RETURNING 1"
                ),
                {"consumer": self.name, "id": envelope.id, "subject": subject},
            )
            if claimed.first() is None:
                return False
            await self.handler(connection, envelope)
        return True

    async def _retry(self, message: Msg, delivered: int, error: Exception) -> None:
        delay = retry_delay(self.spec, delivered)
        log.warning("consumer %s will retry in %ss: %r", self.name, delay, error)
        self.metrics.retries.labels(self.name).inc()
        await message.nak(delay=delay)

    async def _dead_letter(self, message: Msg, code: str, error: str) -> None:
        if await dead_letter(self.js, self.subjects, message, consumer=self.name, code=code, error=error):
            self.metrics.dead_letters.labels(self.name).inc()
