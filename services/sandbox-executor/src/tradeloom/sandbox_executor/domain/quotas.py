"""Per-user quota rules: concurrent executions, started per minute, CPU seconds per day."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuotaPolicy:
    concurrent: int
    cpu_seconds_per_day: float
    rate_per_minute: int


@dataclass(frozen=True)
class Refusal:
    code: str  # quota_exceeded | rate_limited
    message: str
    details: dict[str, object]


def refusal(
    policy: QuotaPolicy, *, running: int, started_last_minute: int, cpu_seconds_today: float, starts_now: bool
) -> Refusal | None:
    """Why a new execution may not be admitted, or None. Queued jobs do not need a free slot yet."""
    if started_last_minute >= policy.rate_per_minute:
        return Refusal(
            "rate_limited",
            f"at most {policy.rate_per_minute} executions per minute",
            {"quota": "executions_per_minute", "limit": policy.rate_per_minute, "used": started_last_minute},
        )
    if cpu_seconds_today >= policy.cpu_seconds_per_day:
        return Refusal(
            "quota_exceeded",
            f"daily CPU quota of {policy.cpu_seconds_per_day:g} s used up",
            {
                "quota": "cpu_seconds_per_day",
                "limit": policy.cpu_seconds_per_day,
                "used": round(cpu_seconds_today, 3),
            },
        )
    if starts_now and running >= policy.concurrent:
        return Refusal(
            "quota_exceeded",
            f"at most {policy.concurrent} executions at once",
            {"quota": "concurrent_executions", "limit": policy.concurrent, "used": running},
        )
    return None
