"""Portfolio runs (``backtest.cmd.portfolio.v1``) on the same work queue and with the same lifecycle
as single runs (``worker.py``): claimed in the inbox transaction, progress in short transactions,
every member's bars fetched like a single run's (retries, cancel checks, ``too_many_bars``), then
``tradeloom.quant.portfolio`` in a thread, and the results, final status and event committed with
the inbox claim. Progress reaches ``60 × (i + 1) / members`` % once member ``i`` is fetched; a
member spanning many candle blocks also reports its own fetch as a single run would (0–60 %), so
the percent can step back at the start of the next member."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.adapters.candles_source import MalformedCandles
from tradeloom.backtest_engine.domain.portfolio_plan import plan_portfolio, simulate_portfolio_plan
from tradeloom.backtest_engine.domain.run_plan import TIMEFRAME_SECONDS, PlanError
from tradeloom.backtest_engine.domain.simulation import BadBars, BarArrays, check_bars
from tradeloom.backtest_engine.optimise_job import Completion
from tradeloom.backtest_engine.run_errors import Cancelled, RunFailure
from tradeloom.backtest_engine.store.portfolio_store import PortfolioStore, final_equity
from tradeloom.shared.contracts.backtest_portfolio import PortfolioRunCommand
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError, TransientError, Unavailable

if TYPE_CHECKING:
    from tradeloom.backtest_engine.worker import BacktestWorker

FETCH_SHARE = 60.0


class PortfolioJob:
    def __init__(self, worker: BacktestWorker) -> None:
        self.worker = worker
        self.store = PortfolioStore(worker.settings.db_schema)

    async def handle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            command = envelope.unwrap(PortfolioRunCommand)
        except ValueError as error:
            raise PermanentError(f"not a portfolio run command: {error}") from error
        worker = self.worker
        async with worker.engine().begin() as progress:
            run = await worker.runs.start(progress, command.backtest_id)
        if run is None:
            return  # deleted, cancelled while queued, already finished, or swept as worker_lost
        beat = asyncio.create_task(worker.beat(command.backtest_id))
        try:
            await self._run(conn, command, final_attempt=run.attempts >= worker.spec.max_deliver)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)

    async def _run(self, conn: AsyncConnection, command: PortfolioRunCommand, *, final_attempt: bool) -> None:
        worker = self.worker
        try:
            await worker.progress(command, "fetching", 0.0)
            plan = plan_portfolio(command.request)
            bars: list[BarArrays] = []
            for i, leg in enumerate(plan.legs):
                leg_bars, _ = await worker.fetch_retrying(command, leg)
                check_bars(leg_bars)
                bars.append(leg_bars)
                await worker.progress(command, "fetching", FETCH_SHARE * (i + 1) / len(plan.legs))
            await worker.progress(command, "simulating", FETCH_SHARE)
            bar_ns = self._bar_ns(plan.timeframe, bars)
            outcome = await asyncio.to_thread(simulate_portfolio_plan, plan, bars, bar_ns)
            await worker.progress(command, "storing", 90.0)
            if not await worker.still_running(conn, command):
                return
            initial = command.request.initial_cash
            await self.store.save(conn, command.backtest_id, plan, outcome, initial)
            result = outcome.result
            completion = Completion(
                int(result.equity.size),
                int(result.trades.shape[0]),
                final_equity(outcome, initial),
                result.metrics,
            )
            await worker.complete(conn, command, completion)
        except Cancelled:
            await worker.finish(conn, command, "cancelled")
        except PlanError as error:
            await worker.finish(conn, command, "failed", "invalid_request", str(error))
        except (RunFailure, MalformedCandles, BadBars) as error:
            code = error.code if isinstance(error, RunFailure) else "bad_market_data"
            await worker.finish(conn, command, "failed", code, str(error))
        except Unavailable as error:
            if not final_attempt:
                raise TransientError(f"market-data unavailable: {error}") from error
            await worker.finish(conn, command, "failed", "market_data_unavailable", str(error))

    @staticmethod
    def _bar_ns(timeframe: str | None, bars: list[BarArrays]) -> int:
        """One bar: the timeframe, else (datasets) the smallest member's median spacing."""
        if timeframe is not None:
            return TIMEFRAME_SECONDS[timeframe] * 1_000_000_000
        return int(min(np.median(np.diff(b.time)) for b in bars))
