"""The event envelope: CloudEvents attribute names around a versioned pydantic payload."""

from __future__ import annotations

import builtins
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.shared.ids import new_event_id

SCHEMA_BASE = "https://tradeloom.dev/contracts/events"

EventT = TypeVar("EventT", bound="Event")


class Event(BaseModel):
    """Base of every event payload. Subclasses declare domain, name and major version."""

    # allow_inf_nan=False: the "before" validator below only sees floats and Decimals, so without
    # it a wire string such as "NaN" or "inf" would still parse into a float field.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    domain: ClassVar[str]
    name: ClassVar[str]
    major: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents ``type``: ``tradeloom.<domain>.<name>.v<major>``."""
        return f"tradeloom.{cls.domain}.{cls.name}.v{cls.major}"

    @classmethod
    def dataschema(cls) -> str:
        return f"{SCHEMA_BASE}/{cls.domain}.{cls.name}.v{cls.major}.schema.json"

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_non_finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("NaN and infinity are not allowed")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError("NaN and infinity are not allowed")
        return value


class Envelope(BaseModel):
    """What travels on JetStream: ``id`` is also sent as the ``Nats-Msg-Id`` header."""

    model_config = ConfigDict(extra="forbid")

    specversion: str = "1.0"
    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, description="tradeloom/<service>")
    type: str = Field(pattern=r"^tradeloom\.[a-z_]+\.[a-z0-9_]+\.v[0-9]+$")
    time: datetime
    subject: str | None = Field(default=None, description="the entity the event is about")
    dataschema: str
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone (UTC)")
        return value.astimezone(UTC)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        event_id: str | None = None,
        subject: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Self:
        """Put ``event`` in an envelope; the id defaults to a fresh UUIDv7."""
        return cls(
            id=event_id or new_event_id(),
            source=source,
            type=event.event_type(),
            time=datetime.now(UTC),
            subject=subject,
            dataschema=event.dataschema(),
            correlationid=correlation_id,
            causationid=causation_id,
            traceparent=traceparent,
            data=event.model_dump(mode="json"),
        )

    def unwrap(self, model: builtins.type[EventT]) -> EventT:
        """Validate the payload as ``model``; refuses an envelope of another type."""
        if self.type != model.event_type():
            raise ValueError(f"envelope type {self.type} is not {model.event_type()}")
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls.model_validate_json(raw)
