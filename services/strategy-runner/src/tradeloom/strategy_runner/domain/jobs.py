"""One status vocabulary for work done by several services (the jobs view). Pure."""

from __future__ import annotations

from tradeloom.shared.contracts.backtest import BacktestSummary
from tradeloom.shared.contracts.jobs import JOB_STATUS, Job
from tradeloom.shared.contracts.sandbox import ExecutionSummary

BACKTEST_STATUS: dict[str, JOB_STATUS] = {
    "queued": "queued", "running": "running", "completed": "succeeded", "failed": "failed",
    "cancelled": "cancelled",
}  # fmt: skip
RUN_STATUS: dict[str, JOB_STATUS] = {
    "running": "running", "succeeded": "succeeded", "failed": "failed", "skipped": "skipped"
}  # fmt: skip


def backtest_job(item: BacktestSummary) -> Job:
    where = (
        f" on {item.symbol}" if item.symbol else f" on dataset {item.dataset_id}" if item.dataset_id else ""
    )
    return Job(
        kind="backtest" if item.kind == "backtest" else "optimisation",
        job_id=item.backtest_id,
        status=BACKTEST_STATUS[item.status],
        title=item.name or f"{item.strategy}{where}",
        detail=item.error or f"{item.phase} {item.percent:g}%",
        href=f"/v1/backtests/{item.backtest_id}",
        created_at=item.created_at,
        finished_at=item.finished_at,
    )


def sandbox_job(item: ExecutionSummary) -> Job:
    status: JOB_STATUS = "succeeded" if item.success else "failed"
    if item.status != "finished":
        status = item.status
    return Job(
        kind="sandbox",
        job_id=item.execution_id,
        status=status,
        title=f"code {item.code_sha256[:12]} ({item.kind})",
        detail=item.outcome or "",
        href=f"/v1/sandbox/jobs/{item.execution_id}",
        created_at=item.created_at,
        finished_at=item.finished_at,
    )
