"""One declaration of every JetStream stream and durable consumer, and ``ensure_streams``.

Run ``python -m tradeloom.shared.streams ensure`` (or call ``ensure_streams``) at deploy time; it
creates what is missing and updates what changed, so running it twice is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Literal

import nats
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(frozen=True)
class StreamSpec:
    """A stream: unprefixed subject patterns, retention and limits."""

    name: str
    subjects: tuple[str, ...]
    description: str
    retention: Literal["limits", "workqueue"] = "limits"
    max_age_s: float = 7 * DAY
    duplicate_window_s: float = 120.0
    max_bytes: int = -1


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer: explicit ack, bounded redelivery with backoff."""

    stream: str
    durable: str
    filter_subject: str
    description: str
    max_deliver: int = 5
    backoff_s: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0)
    max_ack_pending: int = 1000
    extra_filters: tuple[str, ...] = field(default=())
    # Start with messages published after the consumer is created (not the stream's history);
    # JetStream fixes this at creation, so changing it later has no effect on a live consumer.
    deliver_new: bool = False


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("SYSTEM", ("system.evt.>",), "platform lifecycle events"),
    StreamSpec("AUTH", ("auth.evt.>",), "gateway-auth events", max_age_s=30 * DAY),
    StreamSpec("MD_TRADES", ("md.evt.trade.>",), "ingested trades", max_age_s=1 * DAY),
    StreamSpec("MD_CANDLES", ("md.evt.candle_closed.>",), "closed candles", max_age_s=30 * DAY),
    StreamSpec("MD_BOOKS", ("md.evt.book.>",), "order-book snapshots", max_age_s=3600.0),
    StreamSpec("ORDERS", ("orders.evt.>",), "orders and fills", max_age_s=365 * DAY),
    StreamSpec("RISK", ("risk.evt.>",), "risk events, halts, alerts", max_age_s=90 * DAY),
    StreamSpec("BACKTEST_EVENTS", ("backtest.evt.>",), "backtest progress and results"),
    StreamSpec("BACKTEST_COMMANDS", ("backtest.cmd.>",), "backtest jobs", retention="workqueue"),
    StreamSpec("ANALYTICS", ("analytics.evt.>",), "analytics events"),
    StreamSpec("SANDBOX_EVENTS", ("sandbox.evt.>",), "sandbox execution events"),
    StreamSpec("SANDBOX_COMMANDS", ("sandbox.cmd.>",), "sandbox jobs", retention="workqueue"),
    StreamSpec("STRATEGY", ("strategy.evt.>",), "strategy and bot events", max_age_s=30 * DAY),
    StreamSpec("DEAD_LETTERS", ("dlq.>",), "messages that could not be processed", max_age_s=30 * DAY),
)

CONSUMERS: tuple[ConsumerSpec, ...] = (
    # Batched COPY of trades; the first backoff is also the ack wait a big batch may need.
    ConsumerSpec(
        "MD_TRADES",
        "market_data_trades_store",
        "md.evt.trade.>",
        "market-data trade persistence (batched COPY, inbox per message id)",
        max_deliver=8,
        backoff_s=(15.0, 30.0, 60.0),
        max_ack_pending=20_000,
    ),
    ConsumerSpec(
        "MD_BOOKS", "market_data_books_store", "md.evt.book.>", "market-data latest order book per symbol"
    ),
    # The paper exchange: every trade batch, matched against open paper orders (inbox per message).
    ConsumerSpec(
        "MD_TRADES",
        "order_router_paper",
        "md.evt.trade.>",
        "order-router paper matching on market trades",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
        max_ack_pending=5_000,
        deliver_new=True,  # a day of past trades can fill no order: orders fill on trades after them
    ),
    # Every risk event; order-router acts on halt and resume and skips the others.
    ConsumerSpec(
        "RISK",
        "order_router_halts",
        "risk.evt.>",
        "order-router kill switch: refuse and cancel on halt, lift on resume; close positions on flatten",
    ),
    # risk-monitor: fills fold into positions, order updates count open orders (inbox per message).
    ConsumerSpec(
        "ORDERS",
        "risk_monitor_orders",
        "orders.evt.>",
        "risk-monitor positions from fills, open orders from order updates",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
    ),
    # risk-monitor marks: the last trade price per symbol.
    ConsumerSpec(
        "MD_TRADES",
        "risk_monitor_marks",
        "md.evt.trade.>",
        "risk-monitor last prices for mark-to-market",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
        max_ack_pending=5_000,
        deliver_new=True,
    ),
    # risk-monitor: an alert when a bot stops in error (new status changes only: no old episodes).
    ConsumerSpec(
        "STRATEGY",
        "risk_monitor_bots",
        "strategy.evt.bot_status.>",
        "risk-monitor alerts: a bot stopped in error",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
        deliver_new=True,
    ),
    # strategy-runner's bots: a closed candle marks its market's newest bar; lease holders decide.
    ConsumerSpec(
        "MD_CANDLES",
        "strategy_runner_candles",
        "md.evt.candle_closed.>",
        "strategy-runner bots: a closed candle drives the decisions of the bots on its symbol",
        backoff_s=(30.0, 60.0, 120.0),  # ack wait 30 s: one candle may decide many bots
        deliver_new=True,  # a bot decides on bars closed while it runs, not on a month of history
    ),
    # The bots' sub-ledgers: order updates of orders whose client id marks a bot.
    ConsumerSpec(
        "ORDERS",
        "strategy_runner_orders",
        "orders.evt.order_updated.>",
        "strategy-runner bots: their orders' status and filled quantity (the bot's position)",
        deliver_new=True,
    ),
    # Every risk event; strategy-runner halts the user's running bots on a halt.
    ConsumerSpec("RISK", "strategy_runner_halts", "risk.evt.>", "strategy-runner: a halt stops the bots"),
    # analytics daily equity: fills and bot tags, every order event from the start (replayable).
    ConsumerSpec(
        "ORDERS",
        "analytics_orders",
        "orders.evt.>",
        "analytics daily equity: fills and the bot tags of orders",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
    ),
    # analytics marks: closed candles from the start of the stream (a replay rebuilds the marks)...
    ConsumerSpec(
        "MD_CANDLES",
        "analytics_candles",
        "md.evt.candle_closed.>",
        "analytics daily marks from closed candles",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
        max_ack_pending=5_000,
    ),
    # ...and live trades, new only (a candle's close supersedes them once it closes).
    ConsumerSpec(
        "MD_TRADES",
        "analytics_trades",
        "md.evt.trade.>",
        "analytics live marks from trades",
        max_deliver=8,
        backoff_s=(5.0, 15.0, 60.0),
        max_ack_pending=5_000,
        deliver_new=True,
    ),
    # Runs keep their message with in-progress beats; a crashed worker's run is retried in 30 s.
    ConsumerSpec(
        "BACKTEST_COMMANDS",
        "backtest_engine_runs",
        "backtest.cmd.>",
        "backtest work queue",
        max_deliver=4,
        backoff_s=(30.0, 60.0, 120.0),
        max_ack_pending=100,
    ),
    # A job may run up to 300 s: the first redelivery waits longer than that (ack_wait = backoff[0]).
    ConsumerSpec(
        "SANDBOX_COMMANDS",
        "sandbox_executor_jobs",
        "sandbox.cmd.>",
        "sandbox work queue",
        max_deliver=3,
        backoff_s=(330.0, 600.0),
        max_ack_pending=100,
    ),
)


def consumer_spec(durable: str) -> ConsumerSpec:
    """The declared consumer named ``durable`` (services take their specs from here)."""
    for spec in CONSUMERS:
        if spec.durable == durable:
            return spec
    raise KeyError(f"no consumer {durable!r} is declared in tradeloom.shared.streams")


def stream_config(spec: StreamSpec, subjects: Subjects, replicas: int = 1) -> StreamConfig:
    """The concrete config of ``spec`` inside a namespace."""
    return StreamConfig(
        name=subjects.stream(spec.name),
        description=spec.description,
        subjects=[subjects.pattern(pattern) for pattern in spec.subjects],
        retention=RetentionPolicy.WORK_QUEUE if spec.retention == "workqueue" else RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=spec.max_age_s,
        max_bytes=spec.max_bytes,
        duplicate_window=spec.duplicate_window_s,
        num_replicas=replicas,
    )


def consumer_config(spec: ConsumerSpec, subjects: Subjects) -> ConsumerConfig:
    """The concrete durable consumer config of ``spec`` inside a namespace."""
    filters = [subjects.pattern(spec.filter_subject), *(subjects.pattern(f) for f in spec.extra_filters)]
    return ConsumerConfig(
        durable_name=spec.durable,
        description=spec.description,
        filter_subject=filters[0] if len(filters) == 1 else None,
        filter_subjects=filters if len(filters) > 1 else None,
        max_deliver=spec.max_deliver,
        backoff=list(spec.backoff_s) if spec.backoff_s else None,
        ack_wait=spec.backoff_s[0] if spec.backoff_s else 30.0,
        max_ack_pending=spec.max_ack_pending,
        deliver_policy=DeliverPolicy.NEW if spec.deliver_new else None,
    )


async def ensure_stream(js: JetStreamContext, spec: StreamSpec, subjects: Subjects, replicas: int = 1) -> str:
    """Create or update one stream; returns ``created``, ``updated`` or ``unchanged``.

    Retention and storage cannot change on a live stream (JetStream refuses), so a spec that
    changes them is an error naming the stream rather than a silent "unchanged".
    """
    config = stream_config(spec, subjects, replicas)
    try:
        info = await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
        return "created"
    current = info.config
    if current.retention != config.retention or current.storage != config.storage:
        raise ValueError(
            f"stream {config.name}: retention/storage differ from the declaration "
            f"({current.retention}/{current.storage} vs {config.retention}/{config.storage}); "
            "migrate it to a new stream instead"
        )
    wanted = (sorted(config.subjects or []), config.max_age, config.description, config.duplicate_window)
    have = (sorted(current.subjects or []), current.max_age, current.description, current.duplicate_window)
    if wanted == have and current.max_bytes == config.max_bytes:
        return "unchanged"
    await js.update_stream(config)
    return "updated"


def _consumer_shape(config: ConsumerConfig) -> tuple[object, ...]:
    filters = sorted(config.filter_subjects or ([config.filter_subject] if config.filter_subject else []))
    return (
        filters,
        config.max_deliver,
        list(config.backoff or []),
        config.ack_wait,
        config.max_ack_pending,
        config.description,
    )


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, subjects: Subjects) -> str:
    """Create or update one durable consumer; ``unchanged`` when its config already matches."""
    stream = subjects.stream(spec.stream)
    config = consumer_config(spec, subjects)
    try:
        info = await js.consumer_info(stream, spec.durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
        return "created"
    if _consumer_shape(info.config) == _consumer_shape(config):
        return "unchanged"
    await js.add_consumer(stream, config)  # adding an existing durable updates it
    return "updated"


async def ensure_streams(
    js: JetStreamContext,
    subjects: Subjects | None = None,
    *,
    replicas: int = 1,
    streams: tuple[StreamSpec, ...] = STREAMS,
    consumers: tuple[ConsumerSpec, ...] = CONSUMERS,
) -> dict[str, str]:
    """Create or update every declared stream and consumer; idempotent."""
    subjects = subjects or Subjects()
    outcome: dict[str, str] = {}
    for spec in streams:
        outcome[subjects.stream(spec.name)] = await ensure_stream(js, spec, subjects, replicas)
    for consumer in consumers:
        key = f"{subjects.stream(consumer.stream)}/{consumer.durable}"
        outcome[key] = await ensure_consumer(js, consumer, subjects)
    return outcome


async def _main(nats_url: str, prefix: str, replicas: int) -> int:
    client = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0, **admin_options())
    try:
        outcome = await ensure_streams(client.jetstream(), Subjects(prefix), replicas=replicas)
    finally:
        await client.close()
    for name, result in outcome.items():
        print(f"{name}: {result}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m tradeloom.shared.streams ensure [--nats-url URL] [--prefix P] [--replicas N]``.

    It connects as the admin identity: ``TL_NATS_USER`` (default ``tl-admin``), ``TL_NATS_PASSWORD``
    and ``TL_NATS_TLS_CA`` from the environment or ``TL_SECRETS_DIR``.
    """
    parser = argparse.ArgumentParser(prog="python -m tradeloom.shared.streams")
    parser.add_argument("command", choices=["ensure"])
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--prefix", default=os.environ.get("TL_NATS_PREFIX", ""))
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("TL_STREAM_REPLICAS", "1")))
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_main(args.nats_url, args.prefix, args.replicas))
    except (OSError, nats.errors.NoServersError, TimeoutError) as error:
        print(f"cannot reach NATS at {args.nats_url} (NATS_URL): {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
