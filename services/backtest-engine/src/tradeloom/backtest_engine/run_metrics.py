"""backtest-engine's throughput on ``/metrics``: runs finished by status and bars simulated."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RunMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.runs = Counter(
            "tl_backtest_runs", "Backtest runs finished, by status", ["status"], registry=registry
        )
        self.bars = Counter("tl_backtest_bars", "Bars of completed backtest runs", registry=registry)

    def finished(self, status: str, bar_count: int = 0) -> None:
        self.runs.labels(status).inc()
        self.bars.inc(bar_count)
