"""The trade persistence consumer: batches of trade messages into Postgres, exactly once.

The shared ``DurableConsumer`` applies one message per transaction, too slow for tens of
thousands of trades a second. This consumer keeps the same guarantees for a batch: it claims the
batch's message ids in ``inbox`` (skipping ids already claimed), inserts the trades, merges them
into the candles of every timeframe and closes candles (outbox) in ONE transaction, commits, and
only then acks. A crash before the commit leaves nothing (JetStream redelivers); after it, the
redelivery finds every id claimed and is acked without effect. Trades are also unique by (venue,
symbol, ts_ns, trade_id), so a restarted source re-sending under new message ids still stores each
trade once.

A batch that fails is retried message by message, so one poison message cannot block the rest;
a message that fails on its last delivery (or cannot be parsed) goes to ``dlq.<subject>``. Binding,
retry delays and dead letters are ``tradeloom.shared.settle``'s, as for ``DurableConsumer``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.store.candle_close import close_candles
from tradeloom.market_data.store.trades_store import store_trades
from tradeloom.market_data.trade_batch import TradeColumns, columns_from_payload
from tradeloom.shared.contracts.market_data import TradesIngested
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.settle import bind_pull, dead_letter, retry_delay
from tradeloom.shared.streams import ConsumerSpec, consumer_spec
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)

PERSISTENCE_CONSUMER = consumer_spec("market_data_trades_store")


@dataclass(frozen=True)
class Parsed:
    message: Msg
    envelope: Envelope
    trades: TradeColumns


class PersistenceMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.trades = Counter("tl_md_trades_stored", "Trade rows offered to the store", registry=registry)
        self.messages = Counter("tl_md_trade_messages", "Trade messages applied", registry=registry)
        self.duplicates = Counter(
            "tl_md_trade_duplicates", "Trade messages already applied", registry=registry
        )
        self.closed = Counter("tl_md_candles_closed", "candle_closed events written", registry=registry)
        self.lag = Histogram(
            "tl_md_store_lag_seconds",
            "Publish-to-stored lag of trade messages",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=registry,
        )


class TradePersistence:
    """Runs the batch loop of ``PERSISTENCE_CONSUMER``."""

    def __init__(
        self,
        *,
        js: JetStreamContext,
        engine: AsyncEngine,
        schema: str,
        subjects: Subjects,
        outbox: Outbox,
        tolerance_ns: int,
        registry: CollectorRegistry | None = None,
        spec: ConsumerSpec = PERSISTENCE_CONSUMER,
        batch_size: int = 200,
        fetch_timeout_s: float = 0.5,
        after_commit: Callable[[list[Parsed]], Awaitable[None]] | None = None,
    ) -> None:
        self.js = js
        self.engine = engine
        self.schema = check_schema_name(schema)
        self.subjects = subjects
        self.outbox = outbox
        self.tolerance_ns = tolerance_ns
        self.spec = spec
        self.batch_size = batch_size
        self.fetch_timeout_s = fetch_timeout_s
        self.metrics = PersistenceMetrics(registry)
        # Runs after the commit, before the acks: a test hook (crash injection) and the bench's probe.
        self.after_commit = after_commit

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and apply until ``stop``. The next batch is fetched and parsed while the current one
        is in Postgres (a pipeline of two); unacked messages of an interrupted run are redelivered."""
        subscription = None
        ahead: asyncio.Task[list[Parsed]] | None = None
        try:
            while not stop.is_set():
                try:
                    if subscription is None:
                        subscription = await bind_pull(self.js, self.spec, self.subjects)
                    current = await (ahead or self._fetch_parsed(subscription))
                    ahead = None
                except (nats.errors.TimeoutError, TimeoutError):
                    ahead = None
                    continue
                except Exception as error:
                    ahead = None
                    log.warning("trade persistence fetch failed: %r", error)
                    await asyncio.sleep(0.5)
                    continue
                if len(current) >= self.batch_size // 2:  # busy: overlap the next fetch with this batch
                    ahead = asyncio.create_task(self._fetch_parsed(subscription))
                try:
                    await self.apply_parsed(current)
                except Exception as error:  # acks lost (NATS restarting): the inbox absorbs redelivery
                    log.warning("trade persistence could not settle a batch: %r", error)
        finally:
            if ahead is not None:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
            if subscription is not None:
                await subscription.unsubscribe()

    async def _fetch_parsed(self, subscription: JetStreamContext.PullSubscription) -> list[Parsed]:
        return await self.parse(await subscription.fetch(self.batch_size, timeout=self.fetch_timeout_s))

    async def parse(self, messages: list[Msg]) -> list[Parsed]:
        """Envelopes and trade columns of a batch; what cannot be parsed is dead-lettered.

        The trades are checked by ``columns_from_payload``: the same rules as ``TradesIngested``
        without building a model and a Decimal per trade (see ``trade_batch``)."""
        parsed: list[Parsed] = []
        expected_type = TradesIngested.event_type()
        for message in messages:
            try:
                envelope = Envelope.from_bytes(message.data)
                if envelope.type != expected_type:
                    raise ValueError(f"envelope type {envelope.type} is not {expected_type}")
                parsed.append(Parsed(message, envelope, columns_from_payload(envelope.data)))
            except (ValidationError, ValueError) as error:
                await self._dead_letter(message, "invalid_message", str(error))
        return parsed

    async def process(self, messages: list[Msg]) -> None:
        """Apply a fetched batch once, then ack it."""
        await self.apply_parsed(await self.parse(messages))

    async def apply_parsed(self, parsed: list[Parsed]) -> None:
        """Apply once, then ack; a failed batch falls back to one message at a time."""
        if not parsed:
            return
        try:
            await self._apply(parsed)
        except Exception as error:
            log.warning("trade batch of %d failed, retrying one by one: %r", len(parsed), error)
            for item in parsed:
                await self._apply_one(item)
            return
        await self._ack(parsed)

    async def _apply_one(self, item: Parsed) -> None:
        try:
            await self._apply([item])
        except Exception as error:
            delivered = item.message.metadata.num_delivered
            if delivered >= self.spec.max_deliver:
                await self._dead_letter(item.message, "max_deliver", repr(error))
            else:
                await item.message.nak(delay=retry_delay(self.spec, delivered))
            return
        await self._ack([item])

    async def _apply(self, items: list[Parsed]) -> None:
        s = self.schema
        async with self.engine.begin() as connection:
            claimed_rows = await connection.execute(
                text(
                    f'INSERT INTO "{s}".inbox (consumer, message_id, subject) '
                    "SELECT :consumer, id, subject "
                    "FROM unnest(CAST(:ids AS text[]), CAST(:subjects AS text[])) "
                    "AS u(id, subject) ON CONFLICT DO NOTHING RETURNING message_id"
                ),
                {
                    "consumer": self.spec.durable,
                    "ids": [item.envelope.id for item in items],
                    "subjects": [item.message.subject for item in items],
                },
            )
            claimed = {row[0] for row in claimed_rows}
            batches: list[TradeColumns] = []
            for item in items:
                if item.envelope.id not in claimed:
                    continue
                claimed.discard(item.envelope.id)  # the same id twice in one batch counts once
                batches.append(item.trades)
            touched = await store_trades(connection, s, batches)  # every timeframe, in one statement
            for touched_range in touched:
                self.metrics.closed.inc(
                    await close_candles(
                        connection,
                        s,
                        self.outbox,
                        venue=touched_range.venue,
                        symbol=touched_range.symbol,
                        tolerance_ns=self.tolerance_ns,
                    )
                )
        self.metrics.trades.inc(sum(len(batch) for batch in batches))
        self.metrics.messages.inc(len(batches))
        self.metrics.duplicates.inc(len(items) - len(batches))
        now = datetime.now(UTC)
        for item in items:
            self.metrics.lag.observe(max(0.0, (now - item.envelope.time).total_seconds()))
        if self.after_commit is not None:
            await self.after_commit(items)

    async def _ack(self, items: list[Parsed]) -> None:
        await asyncio.gather(*(item.message.ack_sync() for item in items))

    async def _dead_letter(self, message: Msg, code: str, error: str) -> None:
        await dead_letter(self.js, self.subjects, message, consumer=self.spec.durable, code=code, error=error)
