"""risk-monitor's figures on ``/metrics``: pre-trade checks by result with their latency, alerts
by limit and level (``breached`` is a breach), and emergency stops and resumes by scope."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# the check's budget is 50 ms: buckets around it
CHECK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class RiskMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.checks = Counter(
            "tl_risk_checks", "Pre-trade checks by result (approved, refused, halted)", ["result"],
            registry=registry,
        )  # fmt: skip
        self.check_seconds = Histogram(
            "tl_risk_check_seconds", "Pre-trade check latency inside risk-monitor", buckets=CHECK_BUCKETS,
            registry=registry,
        )  # fmt: skip
        self.alerts = Counter(
            "tl_risk_alerts", "Limit alerts raised, by limit and level", ["limit", "level"], registry=registry
        )
        self.halts = Counter(
            "tl_risk_halts", "Emergency stops and resumes by scope", ["scope", "action"],
            registry=registry,
        )  # fmt: skip


def check_result(approved: bool, reason: str | None) -> str:
    if approved:
        return "approved"
    return "halted" if (reason or "").startswith("trading_halted") else "refused"
