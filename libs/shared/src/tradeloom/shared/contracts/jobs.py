"""A user's long work across services in one list (``svc.strategy-runner.jobs_list``).

strategy-runner asks, as the caller, backtest-engine (``list``: backtests and optimisations),
sandbox-executor (``history``: code executions and queued jobs) and its own schedule runs, and
merges the newest of each, newest first. A service that does not answer is named in
``unavailable`` instead of failing the whole view. No paging: each source's own list pages further.

Error codes: ``validation_error`` 422 naming the field, ``unauthorized`` 401.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract

SERVICE = "strategy-runner"
JOB_KIND = Literal["backtest", "optimisation", "sandbox", "scheduled_run"]
JOB_STATUS = Literal["queued", "running", "succeeded", "failed", "cancelled", "skipped"]


class JobListRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    limit: int = Field(default=20, ge=1, le=100, description="the newest jobs, across every source")
    active_only: bool = Field(default=False, description="only queued and running jobs")


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: JOB_KIND
    job_id: str = Field(description="the backtest, execution or schedule id")
    status: JOB_STATUS
    title: str = Field(examples=["sma_cross on BTC/USDT"])
    detail: str = ""
    href: str = Field(examples=["/v1/backtests/0190f0a0-0000-7000-8000-000000000001"], description="where it is")
    created_at: datetime
    finished_at: datetime | None = None


class JobList(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    items: list[Job] = Field(description="newest first")
    unavailable: list[str] = Field(default_factory=list, description="services that did not answer")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(SERVICE, "jobs_list", JobListRequest, JobList, "The caller's long work across services."),
)
