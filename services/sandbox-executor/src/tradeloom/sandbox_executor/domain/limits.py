"""Input bounds of an execution and the outcome codes a finished run is classified into.

Pure rules: no NATS, SQL or HTTP. The reply codes here are what the gateway maps to HTTP statuses
(``STATUS_BY_CODE``), so a user's mistake is never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CODE_MIN_CHARS = 1
CODE_MAX_CHARS = 50_000
TIME_MIN_S = 1
TIME_MAX_S = 300
TIME_DEFAULT_S = 30
MEMORY_MIN_MB = 64
MEMORY_MAX_MB = 2048
MEMORY_DEFAULT_MB = 512


class Outcome(StrEnum):
    """How a run ended. ``ok`` and ``error`` are normal answers; the rest are error replies."""

    OK = "ok"  # the code ran to the end
    ERROR = "error"  # the user's code raised (or exited non-zero): success false, not a fault
    SYNTAX_ERROR = "syntax_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    REJECTED = "rejected"  # refused before running (quota, rate, bad input): audited only
    PLATFORM_ERROR = "platform_error"  # the sandbox itself failed


# Reply error codes of svc.sandbox-executor.* and the HTTP status the gateway answers with.
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 422,
    "code_too_large": 413,
    "syntax_error": 400,
    "time_limit": 408,
    "memory_limit": 507,
    "quota_exceeded": 429,
    "rate_limited": 429,
    "unauthorized": 401,
    "not_found": 404,
    "sandbox_unavailable": 503,
    "internal": 500,
}


@dataclass(frozen=True)
class RunEvidence:
    """What the runner observed about a finished process (no interpretation yet)."""

    reported: bool  # the bootstrap wrote its report
    syntax_error: bool
    user_exception_type: str | None
    killed_by_wall: bool
    exit_signal: int | None
    cpu_s: float
    time_limit_s: float
    oom_killed: bool


SIGKILL = 9
SIGXCPU = 24


def classify(evidence: RunEvidence) -> Outcome:  # noqa: PLR0911 - one rule per line, in order
    """The one place that decides a run's outcome from what was observed."""
    if evidence.syntax_error:
        return Outcome.SYNTAX_ERROR
    if evidence.oom_killed or evidence.user_exception_type == "MemoryError":
        return Outcome.MEMORY_LIMIT
    if evidence.killed_by_wall:
        return Outcome.TIME_LIMIT
    if evidence.exit_signal == SIGXCPU:
        return Outcome.TIME_LIMIT
    if evidence.exit_signal == SIGKILL and evidence.cpu_s >= evidence.time_limit_s * 0.95:
        return Outcome.TIME_LIMIT  # RLIMIT_CPU hard limit reached
    if evidence.reported and evidence.user_exception_type is None:
        return Outcome.OK
    return Outcome.ERROR
