"""``GET /v1/system/status``: public on purpose (a status page; it carries no user data)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tradeloom.gateway_auth.auth import gateway_of, limit_ip
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.system_status import system_status
from tradeloom.shared.contracts.system import SystemStatus

router = APIRouter(tags=["system"])


@router.get(
    "/v1/system/status",
    response_model=SystemStatus,
    summary="Health, version and latency of every service",
    description="Pings every service over NATS; a service that does not answer within the deadline "
    "is reported `down` (within a second), never as a hung request. Public: it carries no user data.",
    responses=problem_responses(429),
    dependencies=[Depends(limit_ip)],
)
async def get_system_status(request: Request) -> SystemStatus:
    gw = gateway_of(request)
    return await system_status(gw.client, gw.settings.status_timeout_s)
