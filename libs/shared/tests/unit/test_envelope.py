"""The event envelope: wrap/unwrap, type checks, NaN and naive times refused, byte round trip."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import ClassVar

import pytest
from pydantic import ValidationError

from tradeloom.shared.context import correlation_id_var
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.ids import market_data_id, new_event_id
from tradeloom.shared.publish import make_envelope, publish_headers


class TradeSeen(Event):
    domain: ClassVar[str] = "md"
    name: ClassVar[str] = "trade_seen"
    major: ClassVar[int] = 2

    symbol: str
    price: Decimal
    size: float
    at: datetime


class OtherEvent(Event):
    domain: ClassVar[str] = "md"
    name: ClassVar[str] = "other"

    symbol: str


def trade(**overrides: object) -> TradeSeen:
    values: dict[str, object] = {
        "symbol": "BTC/USDT",
        "price": Decimal("64000.10"),
        "size": 0.25,
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    values.update(overrides)
    return TradeSeen.model_validate(values)


def test_wrap_sets_cloudevents_attributes() -> None:
    envelope = Envelope.wrap(
        trade(), source="tradeloom/market-data", subject="BTC/USDT", correlation_id="c-1"
    )
    assert envelope.specversion == "1.0"
    assert envelope.type == "tradeloom.md.trade_seen.v2"
    assert envelope.dataschema.endswith("/md.trade_seen.v2.schema.json")
    assert envelope.source == "tradeloom/market-data"
    assert envelope.correlationid == "c-1" and envelope.subject == "BTC/USDT"
    assert uuid.UUID(envelope.id).version == 7
    assert envelope.time.tzinfo is not None
    assert envelope.data["price"] == "64000.10"  # decimals travel as strings


def test_unwrap_returns_the_event() -> None:
    event = trade()
    assert Envelope.wrap(event, source="tradeloom/x").unwrap(TradeSeen) == event


def test_unwrap_refuses_another_type() -> None:
    envelope = Envelope.wrap(trade(), source="tradeloom/x")
    with pytest.raises(ValueError, match=r"is not tradeloom\.md\.other\.v1"):
        envelope.unwrap(OtherEvent)


def test_round_trip_bytes() -> None:
    envelope = Envelope.wrap(trade(), source="tradeloom/x", event_id="fixed-id", traceparent=None)
    raw = envelope.to_bytes()
    assert b"traceparent" not in raw  # None attributes are left out
    again = Envelope.from_bytes(raw)
    assert again == envelope
    assert again.unwrap(TradeSeen).price == Decimal("64000.10")
    assert json.loads(raw)["id"] == "fixed-id"


@pytest.mark.parametrize(
    "bad",
    [
        {"size": float("nan")},
        {"size": float("inf")},
        {"size": "nan"},
        {"size": "-Infinity"},
        {"price": Decimal("NaN")},
        {"price": "Infinity"},
        {"price": "sNaN"},
    ],
)
def test_nan_and_infinity_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        trade(**bad)


def test_nan_on_the_wire_refused_when_unwrapping() -> None:
    envelope = Envelope.wrap(trade(), source="tradeloom/x")
    for field, value in (("size", "NaN"), ("price", "NaN"), ("size", "inf")):
        tampered = envelope.model_copy(update={"data": {**envelope.data, field: value}})
        with pytest.raises(ValidationError):
            tampered.unwrap(TradeSeen)


def test_tz_naive_time_refused_and_aware_time_normalised() -> None:
    envelope = Envelope.wrap(trade(), source="tradeloom/x")
    fields = envelope.model_dump()
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.model_validate({**fields, "time": datetime(2026, 1, 1, 12, 0)})
    raw = json.loads(envelope.to_bytes())
    raw["time"] = "2026-01-01T12:00:00"
    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(raw).encode())
    paris = timezone(timedelta(hours=1))
    shifted = Envelope.model_validate({**fields, "time": datetime(2026, 1, 1, 13, 0, tzinfo=paris)})
    assert shifted.time == datetime(2026, 1, 1, 12, 0, tzinfo=UTC) and shifted.time.tzinfo == UTC


def test_envelope_refuses_unknown_fields_and_bad_types() -> None:
    raw = json.loads(Envelope.wrap(trade(), source="tradeloom/x").to_bytes())
    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps({**raw, "extra": 1}).encode())
    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps({**raw, "type": "md.trade"}).encode())
    with pytest.raises(ValidationError):
        Envelope.from_bytes(b"not json")
    with pytest.raises(ValidationError):
        TradeSeen.model_validate({**trade().model_dump(), "unknown": 1})


def test_ids() -> None:
    ids = [new_event_id() for _ in range(200)]
    assert len(set(ids)) == 200 and all(uuid.UUID(i).version == 7 for i in ids)
    assert market_data_id("binance", "BTC/USDT", "42") == market_data_id("binance", "BTC/USDT", "42")
    assert market_data_id("binance", "BTC/USDT", "42") != market_data_id("binance", "BTC/USDT", "43")


def test_make_envelope_and_publish_headers_carry_ids() -> None:
    token = correlation_id_var.set("corr-7")
    try:
        envelope = make_envelope(trade(), "tradeloom/x")
    finally:
        correlation_id_var.reset(token)
    assert envelope.correlationid == "corr-7"
    headers = publish_headers(envelope)
    assert headers["Nats-Msg-Id"] == envelope.id
    assert headers["tl-type"] == "tradeloom.md.trade_seen.v2"
    traced = envelope.model_copy(update={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    assert publish_headers(traced)["traceparent"] == traced.traceparent
