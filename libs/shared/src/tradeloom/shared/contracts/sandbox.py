"""Events and requests of sandbox-executor (sandbox.evt.*, sandbox.cmd.*, svc.sandbox-executor.*).

Error codes of ``svc.sandbox-executor.*`` replies and the HTTP status the gateway answers with:
``validation_error`` 422 (empty or whitespace-only code, limits out of range, unknown fields), ``code_too_large``
413 (code over 50,000 characters), ``syntax_error`` 400 (details: ``line``, ``column``,
``message``), ``time_limit`` 408 and ``memory_limit`` 507 (details: the partial ``stdout``,
``stderr`` and resource use), ``quota_exceeded`` 429 and ``rate_limited`` 429 (details: which
quota, limit, used), ``unauthorized`` 401 (no user in the request), ``not_found`` 404 (an
execution that does not exist or belongs to someone else), ``sandbox_unavailable`` 503
(isolation could not be set up; nothing ran). An exception raised by the user's code is not an
error reply: it is ``data`` with ``success: false`` and ``error``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.envelope import Event

Outcome = Literal["ok", "error", "syntax_error", "time_limit", "memory_limit", "rejected", "platform_error"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExecuteRequest(_Request):
    """`svc.sandbox-executor.execute` (and the body of a job): code and its limits."""

    code: str = Field(
        min_length=1, description="Python source, 1-50,000 characters (413 above), not only whitespace"
    )
    input: Any = Field(default=None, description="any JSON value, visible to the code as `input_data`")
    time_limit_s: float = Field(default=30, ge=1, le=300, description="wall and CPU limit in seconds")
    memory_mb: int = Field(default=512, ge=64, le=2048)
    capture_variables: bool = Field(
        default=False, description="also return JSON-serialisable top-level variables"
    )

    @field_validator("code")
    @classmethod
    def _not_blank(cls, code: str) -> str:
        """Whitespace only is empty code: refused like ``""``, never started in a sandbox."""
        if not code.strip():
            raise ValueError("must contain code, not only whitespace")
        return code


class UserError(_Reply):
    """An exception raised by the user's code."""

    type: str = Field(examples=["ZeroDivisionError"])
    message: str
    traceback: str


class ExecuteReply(_Reply):
    """What a finished execution answers (also the stored result of a job)."""

    execution_id: str
    success: bool
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    result: Any = None
    result_error: str | None = Field(default=None, description="why `result` is null although it was set")
    variables: dict[str, Any] | None = None
    error: UserError | None = None
    wall_s: float = Field(ge=0)
    cpu_s: float = Field(ge=0)
    peak_memory_mb: float = Field(ge=0)


class EmptyRequest(_Request):
    """An operation without parameters."""


class Range(_Reply):
    min: float
    max: float
    default: float


class QuotaState(_Reply):
    concurrent_max: int
    concurrent_running: int
    cpu_seconds_per_day: float
    cpu_seconds_used_today: float
    executions_per_minute: int


class LimitsReply(_Reply):
    """`svc.sandbox-executor.limits`: bounds of a request and the caller's quotas."""

    code_max_chars: int
    time_limit_s: Range
    memory_mb: Range
    stdout_max_bytes: int
    stderr_max_bytes: int
    quotas: QuotaState


class HealthReply(_Reply):
    """`svc.sandbox-executor.health`: whether isolation is set up, and each layer's state."""

    ready: bool
    reason: str
    features: dict[str, str]


class HistoryRequest(_Request):
    limit: int = Field(default=20, ge=1, le=100)
    before: datetime | None = Field(default=None, description="cursor: `next_before` of the previous page")


class ExecutionSummary(_Reply):
    execution_id: str
    kind: Literal["sync", "job"]
    status: Literal["queued", "running", "finished"]
    outcome: Outcome | None = None
    success: bool | None = None
    code_sha256: str
    time_limit_s: float
    memory_mb: int
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_memory_mb: float | None = None
    created_at: datetime
    finished_at: datetime | None = None


class HistoryReply(_Reply):
    items: list[ExecutionSummary]
    next_before: datetime | None = None


class ExecutionRequest(_Request):
    execution_id: str = Field(min_length=1, max_length=64)


class ExecutionDetail(_Reply):
    """`svc.sandbox-executor.get`: one of the caller's executions; `reply` once a job finished."""

    summary: ExecutionSummary
    reply: ExecuteReply | None = None
    error_code: str | None = Field(default=None, description="the error code a failed job would have replied")


class SubmitReply(_Reply):
    execution_id: str
    status: Literal["queued"]


class ExecuteCommand(Event):
    """A job on the SANDBOX_COMMANDS work queue (`sandbox.cmd.execute.v1`)."""

    domain: ClassVar[str] = "sandbox"
    name: ClassVar[str] = "execute"
    major: ClassVar[int] = 1

    execution_id: str
    user_id: str
    request: ExecuteRequest


class ExecutionStarted(Event):
    """A job started running (`sandbox.evt.execution_started.v1.<user_id>`)."""

    domain: ClassVar[str] = "sandbox"
    name: ClassVar[str] = "execution_started"
    major: ClassVar[int] = 1

    execution_id: str
    user_id: str
    started_at: datetime


class ExecutionFinished(Event):
    """An execution finished (`sandbox.evt.execution_finished.v1.<user_id>`)."""

    domain: ClassVar[str] = "sandbox"
    name: ClassVar[str] = "execution_finished"
    major: ClassVar[int] = 1

    execution_id: str
    user_id: str
    kind: Literal["sync", "job"]
    outcome: Outcome
    success: bool
    wall_s: float = Field(ge=0)
    cpu_s: float = Field(ge=0)
    peak_memory_mb: float = Field(ge=0)
    finished_at: datetime


SERVICE = "sandbox-executor"

EVENTS: tuple[EventContract, ...] = (
    EventContract(ExecutionStarted, "SANDBOX_EVENTS", ("user_id",), "A sandbox job started running."),
    EventContract(ExecutionFinished, "SANDBOX_EVENTS", ("user_id",), "A sandbox execution finished."),
)
REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "execute", ExecuteRequest, ExecuteReply, "Run code now and wait for the answer."
    ),
    RequestContract(
        SERVICE, "submit", ExecuteRequest, SubmitReply, "Queue code as a job (sandbox.cmd.execute)."
    ),
    RequestContract(SERVICE, "get", ExecutionRequest, ExecutionDetail, "One of the caller's executions."),
    RequestContract(
        SERVICE, "history", HistoryRequest, HistoryReply, "The caller's executions, newest first."
    ),
    RequestContract(SERVICE, "limits", EmptyRequest, LimitsReply, "Request bounds and the caller's quotas."),
    RequestContract(
        SERVICE, "health", EmptyRequest, HealthReply, "Whether the sandbox is set up, per layer."
    ),
)
