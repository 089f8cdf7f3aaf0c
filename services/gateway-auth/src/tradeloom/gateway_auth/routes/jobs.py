"""``GET /v1/jobs``: the caller's long work across services (backtests and optimisations, sandbox
executions, scheduled runs) in one list, newest first — ``svc.strategy-runner.jobs_list``, which
asks each service as the caller. Scope ``read``.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.jobs import SERVICE, JobList, JobListRequest

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

ROUTES = (
    Forward(
        "GET", "", Scope.READ, SERVICE, "jobs_list", JobListRequest, JobList,
        name="list_jobs", errors=problem_responses(401, 403, 422, 429, 503, 504),
        query=(
            Param("limit", int, Query(ge=1, le=100, description="the newest jobs across every source"), 20),
            Param("active_only", bool, Query(description="only queued and running jobs"), False),
        ),
        summary="The caller's backtests, sandbox executions and scheduled runs with status, newest first",
        description="A service that does not answer is named in `unavailable`; each source's own "
        "list pages further.",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
