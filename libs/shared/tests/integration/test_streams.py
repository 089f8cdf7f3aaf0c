"""``ensure_streams`` against a real server: declarations become streams and consumers, idempotently."""

from __future__ import annotations

import dataclasses

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import RetentionPolicy

from tradeloom.shared.streams import CONSUMERS, STREAMS, StreamSpec, ensure_streams
from tradeloom.shared.subjects import Subjects

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def delete_streams(nc: NatsClient, prefix: str) -> None:
    if not nc.is_connected:
        return
    js = nc.jetstream()
    for info in await js.streams_info():
        if info.config.name and info.config.name.startswith(prefix.upper() + "_"):
            await js.delete_stream(info.config.name)


async def test_ensure_streams_is_idempotent_and_updates(nc: NatsClient, nats_prefix: str) -> None:
    js = nc.jetstream()
    subjects = Subjects(nats_prefix)
    try:
        first = await ensure_streams(js, subjects)
        assert {name: result for name, result in first.items() if "/" not in name} == {
            subjects.stream(spec.name): "created" for spec in STREAMS
        }
        assert all(first[f"{subjects.stream(c.stream)}/{c.durable}"] == "created" for c in CONSUMERS)

        second = await ensure_streams(js, subjects)
        assert all(second[subjects.stream(spec.name)] == "unchanged" for spec in STREAMS)
        assert all(second[f"{subjects.stream(c.stream)}/{c.durable}"] == "unchanged" for c in CONSUMERS)

        for name in ("BACKTEST_COMMANDS", "SANDBOX_COMMANDS"):
            info = await js.stream_info(subjects.stream(name))
            assert RetentionPolicy(info.config.retention) is RetentionPolicy.WORK_QUEUE
        orders = await js.stream_info(subjects.stream("ORDERS"))
        assert RetentionPolicy(orders.config.retention) is RetentionPolicy.LIMITS
        assert orders.config.subjects == [f"{nats_prefix}.orders.evt.>"]
        for consumer in CONSUMERS:
            info = await js.consumer_info(subjects.stream(consumer.stream), consumer.durable)
            assert info.config.max_deliver == consumer.max_deliver
            assert info.config.filter_subject == subjects.pattern(consumer.filter_subject)

        risk = next(spec for spec in STREAMS if spec.name == "RISK")
        changed: StreamSpec = dataclasses.replace(risk, max_age_s=3600.0, description="risk, shorter")
        third = await ensure_streams(js, subjects, streams=(changed,), consumers=())
        assert third == {subjects.stream("RISK"): "updated"}
        info = await js.stream_info(subjects.stream("RISK"))
        assert info.config.max_age == 3600.0 and info.config.description == "risk, shorter"
        assert await ensure_streams(js, subjects, streams=(changed,), consumers=()) == {
            subjects.stream("RISK"): "unchanged"
        }

        widened = dataclasses.replace(changed, subjects=("risk.evt.>", "risk.audit.>"))
        assert await ensure_streams(js, subjects, streams=(widened,), consumers=()) == {
            subjects.stream("RISK"): "updated"
        }
        info = await js.stream_info(subjects.stream("RISK"))
        assert sorted(info.config.subjects or []) == [
            f"{nats_prefix}.risk.audit.>",
            f"{nats_prefix}.risk.evt.>",
        ]

        tuned = dataclasses.replace(CONSUMERS[0], max_deliver=7, backoff_s=(1.0, 2.0))
        outcome = await ensure_streams(js, subjects, streams=(), consumers=(tuned,))
        assert outcome == {f"{subjects.stream(tuned.stream)}/{tuned.durable}": "updated"}
        info = await js.consumer_info(subjects.stream(tuned.stream), tuned.durable)
        assert info.config.max_deliver == 7 and info.config.backoff == [1.0, 2.0]
        again = await ensure_streams(js, subjects, streams=(), consumers=(tuned,))
        assert again == {f"{subjects.stream(tuned.stream)}/{tuned.durable}": "unchanged"}

        as_work_queue = dataclasses.replace(risk, retention="workqueue")
        with pytest.raises(ValueError, match="retention"):
            await ensure_streams(js, subjects, streams=(as_work_queue,), consumers=())
    finally:
        await delete_streams(nc, nats_prefix)
