"""A durable consumer that applies each fetched batch of messages in one transaction.

For a busy stream whose messages are small (market trades), one transaction and one commit per
message is the bottleneck. ``BatchConsumer`` claims the ids of every message of a fetched batch
in the inbox and runs the batch handler in the same transaction, commits once, then acks each
message: still exactly once (a redelivered message finds its claim and is acked without effect).

When the batch cannot be applied together (a payload that is not an envelope, a permanent or a
transient error of the handler), nothing of it was committed and it is applied again one message
at a time with ``DurableConsumer``'s rules, so only the offending message is retried or
dead-lettered while the others go through.

``gather_s`` (0 by default): after a first message, wait up to that long for more to join the
batch. A trickle (a quiet market's 20 trades/s) then costs one transaction, one inbox statement
and one commit per ``gather_s`` instead of per message, each message handled at most ``gather_s``
later.

``probe`` (optional) first offers a fetched batch to a handler that may take it **without a
transaction or inbox claims**, on an autocommit connection: it returns True when it did the
batch's whole effect, which must then be idempotent and order-insensitive (e.g. a last price
stored unless a newer one is there), so a redelivery or a batch taken again repeats nothing
harmful; False (having done at most such idempotent writes) sends the batch down the transaction
path as usual. For a busy stream whose messages usually change nothing but such a value (a market
nobody has an order on), it saves the transaction, the inbox statement and the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.consumer import DurableConsumer
from tradeloom.shared.context import correlation_id_var
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.telemetry import extract_trace, tracer

log = logging.getLogger(__name__)

BatchHandler = Callable[[AsyncConnection, list[Envelope]], Awaitable[None]]
Probe = Callable[[AsyncConnection, list[Envelope]], Awaitable[bool]]
Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


def in_turn(handler: Handler) -> BatchHandler:
    """A per-message handler as a batch handler: the batch's messages in stream order, in the one
    transaction. For a handler whose in-memory effects wait for the commit (so a batch rolled back
    and applied again one by one changes nothing twice): under load, N events cost one commit and
    one inbox statement instead of N of each."""

    async def each(connection: AsyncConnection, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await handler(connection, envelope)

    return each


class BatchConsumer(DurableConsumer):
    """Runs ``batch_handler`` once per fetched batch, over the messages not applied before."""

    def __init__(
        self, *, batch_handler: BatchHandler, gather_s: float = 0.0, probe: Probe | None = None, **kwargs: Any
    ) -> None:
        async def one(connection: AsyncConnection, envelope: Envelope) -> None:
            await batch_handler(connection, [envelope])

        super().__init__(handler=one, **kwargs)
        self.batch_handler = batch_handler
        self.gather_s = gather_s
        self.probe = probe

    async def _next_batch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        messages = await super()._next_batch(subscription)
        if self.gather_s <= 0 or not messages:
            return messages
        deadline = time.monotonic() + self.gather_s
        while (wanted := self.batch_size - len(messages)) > 0 and (left := deadline - time.monotonic()) > 0:
            try:  # returns at once with what is there, else waits for more until the deadline
                messages += await subscription.fetch(wanted, timeout=left)
            except (nats.errors.TimeoutError, TimeoutError):
                break
        return messages

    async def process_fetched(self, messages: list[Msg]) -> None:
        if self.probe is not None and await self._probed(messages):
            return
        if len(messages) > 1:
            try:
                if await self._process_together(messages):
                    return
            except Exception as error:  # nothing was committed: apply them one by one
                log.info("consumer %s applies a batch one by one: %r", self.name, error)
        await super().process_fetched(messages)

    async def _probed(self, messages: list[Msg]) -> bool:
        """True when ``probe`` took the whole batch without a transaction; its messages are acked."""
        assert self.probe is not None
        try:
            envelopes = [Envelope.from_bytes(message.data) for message in messages]
        except ValidationError:
            return False
        try:
            async with self.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                if not await self.probe(autocommit, envelopes):
                    return False
        except Exception as error:  # the transaction path decides, retries or dead-letters as usual
            log.info("consumer %s: the probe of %d messages failed: %r", self.name, len(messages), error)
            return False
        self.metrics.processed.labels(self.name).inc(len(messages))
        if self.after_commit is not None:
            for envelope in envelopes:
                await self.after_commit(envelope)
        try:  # not waiting for the server's confirmation: a lost ack is a harmless redelivery
            for message in messages:
                await message.ack()
        except Exception as error:
            log.warning("consumer %s could not ack a probed batch: %r", self.name, error)
        return True

    async def _process_together(self, messages: list[Msg]) -> bool:
        """Apply ``messages`` in one transaction and ack them; False if one is not an envelope."""
        try:
            envelopes = [Envelope.from_bytes(message.data) for message in messages]
        except ValidationError:
            return False
        first = envelopes[0]
        correlation = correlation_id_var.set(first.correlationid or first.id)
        span_name = f"consume {len(messages)} × {self.subjects.strip(messages[0].subject)}"
        try:
            with tracer().start_as_current_span(
                span_name, context=extract_trace(messages[0].headers), kind=trace.SpanKind.CONSUMER
            ):
                async with self._working_all(messages):
                    applied = await self._apply_batch(envelopes, [m.subject for m in messages])
        finally:
            correlation_id_var.reset(correlation)
        duplicates = len(messages) - applied
        self.metrics.processed.labels(self.name).inc(applied)
        if duplicates:
            self.metrics.duplicates.labels(self.name).inc(duplicates)
        if self.after_commit is not None:
            for envelope in envelopes:
                await self.after_commit(envelope)
        settled = await asyncio.gather(*(m.ack_sync() for m in messages), return_exceptions=True)
        lost = [error for error in settled if isinstance(error, BaseException)]
        if lost:  # committed with their claims: a redelivery is acked without effect
            log.warning("consumer %s could not ack %d messages: %r", self.name, len(lost), lost[0])
        return True

    async def _apply_batch(self, envelopes: list[Envelope], subjects: list[str]) -> int:
        """Claim every id and run the handler over the newly claimed ones; how many were new."""
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                text(
                    f'INSERT INTO "{self.schema}".inbox (consumer, message_id, subject) '
                    "SELECT :consumer, m.id, m.subject "
                    "FROM unnest(CAST(:ids AS text[]), CAST(:subjects AS text[])) AS m(id, subject) "
                    "ON CONFLICT DO NOTHING RETURNING message_id"
                ),
                {"consumer": self.name, "ids": [e.id for e in envelopes], "subjects": subjects},
            )
            new = {row.message_id for row in claimed.all()}
            fresh: list[Envelope] = []
            for envelope in envelopes:  # in stream order; a repeated id counts once
                if envelope.id in new:
                    new.discard(envelope.id)
                    fresh.append(envelope)
            if fresh:
                await self.batch_handler(connection, fresh)
        return len(fresh)

    @contextlib.asynccontextmanager
    async def _working_all(self, messages: list[Msg]) -> AsyncIterator[None]:
        """``_working`` for every message of the batch, with one heartbeat task."""
        ack_wait = self.spec.backoff_s[0] if self.spec.backoff_s else 30.0

        async def beat() -> None:
            while True:
                await asyncio.sleep(max(0.2, ack_wait / 2))
                for message in messages:
                    with contextlib.suppress(Exception):  # a missed beat only risks a redelivery
                        await message.in_progress()

        heartbeat = asyncio.create_task(beat())
        try:
            yield
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
