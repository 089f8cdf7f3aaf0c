"""``/v1/sandbox/*``: code in the OS sandbox, each route one ``svc.sandbox-executor.<op>``.

Running code uses scope ``trade``: like placing an order it spends the account's resources (CPU
quota) and has effects, so a read-only API key must not do it; reads use ``read``. Execution
routes also take from the strict per-user ``code`` bucket. Error codes of the service map to
statuses in ``problems.GATEWAY_STATUS`` (e.g. ``syntax_error`` 400, ``time_limit`` 408,
``memory_limit`` 507).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from tradeloom.gateway_auth import proxy
from tradeloom.gateway_auth.auth import CallContext, gateway_of, limit_ip, require
from tradeloom.gateway_auth.budgets import sandbox_limits
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.cursors import MAX_CURSOR_CHARS
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.gateway_auth.schemas import Page, SandboxLimits
from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.contracts.sandbox import (
    SERVICE,
    EmptyRequest,
    ExecuteReply,
    ExecuteRequest,
    ExecutionDetail,
    ExecutionRequest,
    ExecutionSummary,
    HealthReply,
    HistoryReply,
    HistoryRequest,
    LimitsReply,
    SubmitReply,
)

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"])
READ = require(Scope.READ)
EXECUTE_MARGIN_S = 15.0  # beyond the code's own time limit: start-up, queueing, recording
MAX_HISTORY_PAGE = 100
EXECUTION_ID = id_param("execution_id", "an execution id from execute/submit")
RUN_ERRORS = problem_responses(400, 401, 403, 408, 413, 422, 429, 500, 503, 504, 507)


def execute_deadline(request: ExecuteRequest) -> float:
    return request.time_limit_s + EXECUTE_MARGIN_S


ROUTES = (
    Forward(
        "POST", "/execute", Scope.TRADE, SERVICE, "execute", ExecuteRequest, ExecuteReply,
        name="execute", bucket=ratelimit.CODE, body=ExecuteRequest, idempotent=True, errors=RUN_ERRORS,
        deadline=execute_deadline,
        summary="Run code now and wait for the result",
        description="An exception in the code is a normal reply with `success: false`. Takes "
        "`Idempotency-Key`. Scope `trade`; the strict per-user `code` rate bucket.",
    ),
    Forward(
        "POST", "/jobs", Scope.TRADE, SERVICE, "submit", ExecuteRequest, SubmitReply,
        name="submit", bucket=ratelimit.CODE, body=ExecuteRequest, idempotent=True, errors=RUN_ERRORS,
        status=202,
        summary="Queue code as a job",
        description="Answers at once with the execution id; poll `GET /v1/sandbox/jobs/{execution_id}`. "
        "Takes `Idempotency-Key`.",
    ),
    Forward(
        "GET", "/jobs/{execution_id}", Scope.READ, SERVICE, "get", ExecutionRequest, ExecutionDetail,
        name="get_execution", path_params=(EXECUTION_ID,), errors=READ_ERRORS,
        summary="One of the caller's executions (a job's result once it finished)",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)


@router.get(
    "/executions",
    response_model=Page[ExecutionSummary],
    summary="The caller's executions, newest first",
    responses=READ_ERRORS,
)
async def list_executions(
    request: Request,
    ctx: Annotated[CallContext, Depends(READ)],
    limit: int = Query(20, ge=1, le=MAX_HISTORY_PAGE, description=f"items per page (1..{MAX_HISTORY_PAGE})"),
    cursor: str | None = Query(
        None, min_length=1, max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page"
    ),
) -> Page[ExecutionSummary]:
    gw = gateway_of(request)
    before = None
    if cursor is not None:
        try:
            before = datetime.fromisoformat(str(gw.cursors.decode("sandbox_executions", cursor)))
        except ValueError as error:  # InvalidCursor is a ValueError; so is a bad timestamp
            raise field_error("query.cursor", str(error)) from error
    reply = await proxy.forward(
        ctx, SERVICE, "history", HistoryRequest(limit=limit, before=before), HistoryReply
    )
    next_cursor = (
        gw.cursors.encode("sandbox_executions", reply.next_before.isoformat()) if reply.next_before else None
    )
    return Page[ExecutionSummary](items=reply.items, next_cursor=next_cursor)


@router.get(
    "/limits",
    response_model=SandboxLimits,
    summary="Request bounds and the caller's quotas",
    description="`quotas.executions_per_minute` is what is enforced: the lower of the sandbox's quota "
    "and the gateway's `code` bucket, which `rate_limit` describes (`burst` at once, refilled at "
    "`per_minute`). Requests refused as invalid do not count.",
    responses=READ_ERRORS,
)
async def limits(ctx: Annotated[CallContext, Depends(READ)]) -> SandboxLimits:
    reply = await proxy.forward(ctx, SERVICE, "limits", EmptyRequest(), LimitsReply)
    return sandbox_limits(gateway_of(ctx.request), reply)


@router.get(
    "/health",
    response_model=HealthReply,
    summary="Whether the sandbox can run code (public, for probes)",
    description="No authentication (the per-IP bucket only). A minimal status: `ready` and a generic "
    "`reason`; `features` is empty here, since the isolation layers' details (paths, uid ranges) "
    "are not for the public: operators read them in the service's log or with "
    "`svc.sandbox-executor.health`. 503 while the sandbox does not answer.",
    responses=problem_responses(429, 503, 504),
    dependencies=[Depends(limit_ip)],
)
async def health(request: Request) -> HealthReply:
    gw = gateway_of(request)
    caller = CallerContext(request_id=request_id_var.get())  # nobody's: no user header at all
    timeout_s = gw.settings.proxy_timeout_s
    reply = await gw.client.call(
        SERVICE, "health", EmptyRequest(), HealthReply, caller=caller, timeout_s=timeout_s
    )
    reason = "isolation is set up" if reply.ready else "isolation is not available; code is not run"
    return HealthReply(ready=reply.ready, reason=reason, features={})
