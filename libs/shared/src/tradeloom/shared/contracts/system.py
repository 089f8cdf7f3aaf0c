"""Platform-level events and requests every service shares."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.envelope import Event


class ServiceStarted(Event):
    """A service instance came up (published on `system.evt.service_started.v1.<service>`)."""

    domain: ClassVar[str] = "system"
    name: ClassVar[str] = "service_started"
    major: ClassVar[int] = 1

    service: str = Field(examples=["market-data"])
    version: str = Field(examples=["0.1.0"])
    instance_id: str = Field(examples=["market-data-5f2c9a"])
    started_at: datetime


class PingRequest(BaseModel):
    """`svc.<service>.ping` takes an empty object."""

    model_config = ConfigDict(extra="forbid")


class PingReply(BaseModel):
    """What `svc.<service>.ping` answers."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["market-data"])
    version: str = Field(examples=["0.1.0"])
    instance_id: str
    uptime_s: float = Field(ge=0)
    ready: bool = Field(description="database and NATS reachable")


class ErrorBody(BaseModel):
    """The `error` member of a failed reply."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(examples=["validation_error"])
    message: str
    details: dict[str, object] = Field(default_factory=dict)


class ErrorReply(BaseModel):
    """A failed reply: `{"error": {"code", "message", "details"}}`."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorBody


class ServiceStatus(BaseModel):
    """One service's line in `GET /v1/system/status`."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(examples=["market-data"])
    status: Literal["up", "degraded", "down"]
    version: str | None = None
    instance_id: str | None = None
    uptime_s: float | None = None
    latency_ms: float | None = Field(default=None, description="round trip of the NATS ping")
    error: str | None = None


class SystemStatus(BaseModel):
    """`GET /v1/system/status`: every service's health as seen from the gateway."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["up", "degraded", "down"]
    checked_at: datetime
    services: list[ServiceStatus]
