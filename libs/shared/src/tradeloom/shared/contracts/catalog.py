"""Every published event and request/reply model, in one place, for contract generation."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from tradeloom.shared.contracts.system import ErrorReply, PingReply, PingRequest, ServiceStarted
from tradeloom.shared.envelope import Envelope, Event

SERVICES: tuple[str, ...] = (
    "gateway-auth",
    "market-data",
    "order-router",
    "risk-monitor",
    "backtest-engine",
    "analytics",
    "sandbox-executor",
    "strategy-runner",
)

# The Postgres schema each service owns (DESIGN section 1); its login role is tl_<package>.
SCHEMAS: dict[str, str] = {service: service.replace("-", "_") for service in SERVICES} | {"gateway-auth": "gateway"}


@dataclass(frozen=True)
class EventContract:
    """An event type, the stream it lives on and the subject keys that follow its version."""

    model: type[Event]
    stream: str
    subject_keys: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RequestContract:
    """A request/reply operation `svc.<service>.<op>` (``service='*'``: every service has it)."""

    service: str
    op: str
    request: type[BaseModel]
    reply: type[BaseModel]
    description: str = ""


EVENTS: tuple[EventContract, ...] = (
    EventContract(ServiceStarted, "SYSTEM", ("service",), "A service instance came up."),
)

REQUESTS: tuple[RequestContract, ...] = (
    RequestContract("*", "ping", PingRequest, PingReply, "Liveness and version of a service."),
)

SHARED_MODELS: tuple[type[BaseModel], ...] = (Envelope, ErrorReply)
