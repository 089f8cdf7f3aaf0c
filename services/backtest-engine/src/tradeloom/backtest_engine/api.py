"""Request/reply operations of backtest-engine (``svc.backtest-engine.<op>``) and its work queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tradeloom.backtest_engine.api_optimisations import OptimisationsApi
from tradeloom.backtest_engine.api_results import ResultsApi
from tradeloom.backtest_engine.api_runs import RunsApi
from tradeloom.backtest_engine.worker import BacktestWorker
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import REQUESTS
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    runs: RunsApi,
    results: ResultsApi,
    optimisations: OptimisationsApi,
    worker: BacktestWorker,
) -> None:
    """Every operation declared in ``contracts.backtest.REQUESTS``, and the run consumer."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "submit": runs.submit,
        "submit_portfolio": runs.submit_portfolio,
        "status": runs.status,
        "list": runs.list,
        "cancel": runs.cancel,
        "delete": runs.delete,
        "results": results.results_of,
        "trades": results.trades,
        "equity": results.equity,
        "daily_pnl": results.daily_pnl,
        "positions": results.positions,
        "export": results.export,
        "compare": results.compare,
        "optimisation": optimisations.optimisation,
        "optimisation_rows": optimisations.rows,
        "optimisation_heatmap": optimisations.heatmap,
    }
    for contract in REQUESTS:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
    # one command at a time: the chunks of a distributed search go to idle replicas (sweep_job.py)
    runtime.add_consumer(worker.spec, worker.handle, batch_size=1)
