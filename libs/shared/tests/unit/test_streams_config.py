"""Building concrete stream and durable-consumer configs from the declarations."""

from __future__ import annotations

import pytest
from nats.js.api import RetentionPolicy, StorageType

from tradeloom.shared.streams import (
    CONSUMERS,
    STREAMS,
    ConsumerSpec,
    StreamSpec,
    consumer_config,
    stream_config,
)
from tradeloom.shared.subjects import Subjects


def test_stream_config_in_a_namespace() -> None:
    spec = StreamSpec("ORDERS", ("orders.evt.>",), "orders and fills", max_age_s=3600.0, max_bytes=1024)
    config = stream_config(spec, Subjects("t9"), replicas=3)
    assert config.name == "T9_ORDERS"
    assert config.subjects == ["t9.orders.evt.>"]
    assert config.retention is RetentionPolicy.LIMITS
    assert config.storage is StorageType.FILE
    assert config.max_age == 3600.0 and config.max_bytes == 1024
    assert config.duplicate_window == 120.0
    assert config.num_replicas == 3
    wire = config.as_dict()
    assert wire["max_age"] == 3600 * 10**9  # nanoseconds on the wire
    assert wire["duplicate_window"] == 120 * 10**9


def test_work_queue_streams() -> None:
    by_name = {spec.name: spec for spec in STREAMS}
    for name in ("BACKTEST_COMMANDS", "SANDBOX_COMMANDS"):
        assert stream_config(by_name[name], Subjects()).retention is RetentionPolicy.WORK_QUEUE
    assert stream_config(by_name["ORDERS"], Subjects()).retention is RetentionPolicy.LIMITS


def test_declarations_are_consistent() -> None:
    names = [spec.name for spec in STREAMS]
    assert len(names) == len(set(names))
    patterns = [pattern for spec in STREAMS for pattern in spec.subjects]
    assert len(patterns) == len(set(patterns))
    assert "DEAD_LETTERS" in names and any(p == "dlq.>" for p in patterns)
    for consumer in CONSUMERS:
        assert consumer.stream in names
        assert consumer.max_deliver > len(consumer.backoff_s)  # nats-server refuses otherwise


def test_consumer_config_single_filter() -> None:
    spec = ConsumerSpec(
        "RISK", "risk_reader", "risk.evt.>", "reads risk", max_deliver=4, backoff_s=(0.5, 2.0)
    )
    config = consumer_config(spec, Subjects("t9"))
    assert config.durable_name == "risk_reader"
    assert config.filter_subject == "t9.risk.evt.>" and config.filter_subjects is None
    assert config.max_deliver == 4
    assert config.backoff == [0.5, 2.0]
    assert config.ack_wait == 0.5  # the first backoff step
    assert config.max_ack_pending == 1000
    wire = config.as_dict()
    assert wire["backoff"] == [500_000_000, 2_000_000_000]
    assert wire["ack_wait"] == 500_000_000


def test_consumer_config_several_filters_and_no_backoff() -> None:
    spec = ConsumerSpec(
        "MD_TRADES", "md_reader", "md.evt.trade.>", "", backoff_s=(), extra_filters=("md.evt.book.>",)
    )
    config = consumer_config(spec, Subjects())
    assert config.filter_subject is None
    assert config.filter_subjects == ["md.evt.trade.>", "md.evt.book.>"]
    assert config.backoff is None and config.ack_wait == 30.0


@pytest.mark.parametrize("spec", CONSUMERS, ids=lambda spec: spec.durable)
def test_declared_consumers_build(spec: ConsumerSpec) -> None:
    config = consumer_config(spec, Subjects("t1"))
    assert config.filter_subject is not None and config.filter_subject.startswith("t1.")
