"""``GET /v1/system/status``: ping every service over NATS, concurrently, with a short deadline."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Literal

from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.contracts.system import PingReply, ServiceStatus, SystemStatus
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient


async def ping_service(client: ServiceClient, service: str, timeout_s: float) -> ServiceStatus:
    """One service's status: up, degraded (answers but not ready) or down (no answer in time)."""
    started = time.perf_counter()
    try:
        reply = await client.call(service, "ping", None, PingReply, timeout_s=timeout_s)
    except ServiceError as error:
        return ServiceStatus(service=service, status="down", error=f"{error.code}: {error.message}")
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ServiceStatus(
        service=service,
        status="up" if reply.ready else "degraded",
        version=reply.version,
        instance_id=reply.instance_id,
        uptime_s=reply.uptime_s,
        latency_ms=latency_ms,
    )


def overall(statuses: list[ServiceStatus]) -> Literal["up", "degraded", "down"]:
    if all(status.status == "up" for status in statuses):
        return "up"
    if all(status.status == "down" for status in statuses):
        return "down"
    return "degraded"


async def system_status(client: ServiceClient, timeout_s: float) -> SystemStatus:
    statuses = list(await asyncio.gather(*(ping_service(client, name, timeout_s) for name in SERVICES)))
    return SystemStatus(
        status=overall(statuses),
        checked_at=datetime.now(UTC),
        services=statuses,
    )
