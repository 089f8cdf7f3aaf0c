"""The work-queue side: runs ``backtest.cmd.run.v1`` commands (durable ``backtest_engine_runs``).

The consumer claims the command in its inbox transaction; progress (status ``running``, phase,
percent, and a ``progress`` event) is committed in separate short transactions so watchers see it
while the run goes on; the results, the final status and the ``completed``/``failed``/``cancelled``
event commit with the inbox claim. A worker that dies mid-run rolls that transaction back, so
JetStream redelivers the command after ack_wait and another worker runs it again from the start:
the recorded effects happen once. Cancel is a flag on the run, checked between pages and phases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.backtest_engine import optimise_job
from tradeloom.backtest_engine.adapters.candle_blocks import BlockSource
from tradeloom.backtest_engine.adapters.candle_cache import CandleCache
from tradeloom.backtest_engine.adapters.candles_source import (
    CandlePage,
    MalformedCandles,
    concat,
    dataset_pages,
)
from tradeloom.backtest_engine.code_runs import SandboxUnavailable, sandboxed_signals
from tradeloom.backtest_engine.domain.run_plan import (
    TIMEFRAME_SECONDS,
    PlanError,
    RunPlan,
    plan_run,
    with_bars,
)
from tradeloom.backtest_engine.domain.simulation import (
    BacktestOutcome,
    BadBars,
    BarArrays,
    check_bars,
    run_backtest,
)
from tradeloom.backtest_engine.domain.sweep import plan_chunks
from tradeloom.backtest_engine.optimise_job import Completion, OptimisationFailure, OptimisationJob
from tradeloom.backtest_engine.portfolio_job import PortfolioJob
from tradeloom.backtest_engine.run_errors import Cancelled, RunFailure, retry_delays
from tradeloom.backtest_engine.run_metrics import RunMetrics
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.backtest_engine.store.results_store import ResultsStore
from tradeloom.backtest_engine.store.runs_store import RunsStore
from tradeloom.backtest_engine.sweep_job import DistributedSweep
from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import (
    BacktestCancelled,
    BacktestCompleted,
    BacktestFailed,
    BacktestProgress,
    RunChunkCommand,
    RunCommand,
    metric_or_none,
)
from tradeloom.shared.contracts.backtest_portfolio import PortfolioRunCommand
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError, TransientError, Unavailable
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ConsumerSpec, consumer_spec
from tradeloom.shared.user_code import UserCodeFailed

log = logging.getLogger(__name__)

RUNS_CONSUMER = consumer_spec("backtest_engine_runs")
FETCH_SHARE = 60.0  # percent of the progress bar spent fetching candles
CANCEL_CHECK_S = 0.2  # while fetching, look at the cancel flag at most this often
Fault = Callable[[str], Awaitable[None]]
AnyCommand = RunCommand | RunChunkCommand | PortfolioRunCommand


def simulate(plan: RunPlan, bars: BarArrays, signals: SignalArrays | None = None) -> BacktestOutcome:
    """``run_backtest``, with the simulator's own refusals turned into a recorded failure."""
    try:
        return run_backtest(plan, bars, signals)
    except BadBars:
        raise
    except ValueError as error:
        raise RunFailure("simulation_rejected", str(error)) from error


class BacktestWorker:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Outbox,
        settings: BacktestEngineSettings,
        *,
        spec: ConsumerSpec = RUNS_CONSUMER,
        candle_cache: CandleCache | None = None,
    ) -> None:
        self.engine = engine  # the runtime's engine and client exist only once it has started
        self._client = client
        self.outbox = outbox
        self.settings = settings
        self.spec = spec
        self.candle_cache = candle_cache
        self.runs = RunsStore(settings.db_schema)
        self.results = ResultsStore(settings.db_schema)
        self.optimiser = OptimisationJob(
            settings.db_schema, settings.optimise_chunk_bar_evaluations, settings.max_bar_evaluations
        )
        self.sweeps = DistributedSweep(self)
        self.portfolios = PortfolioJob(self)
        # Fault-injection points for tests: awaited at the start of every phase; heartbeats on/off.
        self.fault: Fault | None = None
        self.beats = True
        # perf_counter() when the last run reached each phase (benchmarks read it; see bench/)
        self.last_phases: dict[str, float] = {}
        self.metrics = RunMetrics(None)  # app.py gives it the runtime's registry

    async def progress(self, command: AnyCommand, phase: str, percent: float) -> None:
        """Commit progress and its event now; raises ``Cancelled`` if the owner asked to cancel."""
        async with self.engine().begin() as conn:
            cancel = await self.runs.progress(conn, command.backtest_id, phase, percent)
            if not cancel:
                event = BacktestProgress(
                    backtest_id=command.backtest_id,
                    user_id=command.user_id,
                    phase=phase,
                    percent=round(percent, 1),
                    at=datetime.now(UTC),
                )
                await self.outbox.add(conn, event, command.backtest_id)
        if cancel:
            raise Cancelled
        if self.fault is not None:
            await self.fault(phase)

    async def _cancel_requested(self, backtest_id: str) -> bool:
        async with self.engine().connect() as conn:
            return await self.runs.cancel_requested(conn, backtest_id)

    async def handle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        """The durable consumer's handler for ``backtest.cmd.run.v1``, ``.chunk.v1`` and ``.portfolio.v1``."""
        other = {RunChunkCommand.event_type(): self.sweeps.handle,
                 PortfolioRunCommand.event_type(): self.portfolios.handle}.get(envelope.type)  # fmt: skip
        if other is not None:
            return await other(conn, envelope)
        try:
            command = envelope.unwrap(RunCommand)
        except ValueError as error:
            raise PermanentError(f"not a backtest run command: {error}") from error
        self.last_phases = {"claimed": time.perf_counter()}
        async with self.engine().begin() as progress:
            run = await self.runs.start(progress, command.backtest_id)
        if run is None:
            return  # deleted, cancelled while queued, already finished, or swept as worker_lost
        beat = asyncio.create_task(self.beat(command.backtest_id))
        try:
            await self._run(conn, command, final_attempt=run.attempts >= self.spec.max_deliver)
            self.last_phases["handled"] = time.perf_counter()
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)

    async def _run(self, conn: AsyncConnection, command: RunCommand, *, final_attempt: bool) -> None:
        try:
            await self.progress(command, "fetching", 0.0)
            plan = plan_run(command.request)
            self.last_phases["started"] = time.perf_counter()
            bars, plan = await self.fetch_retrying(command, plan)
            self.last_phases["fetched"] = time.perf_counter()
            if plan.search is None:
                await self.progress(command, "simulating", FETCH_SHARE)
                # user code, or a graph's Python indicators: computed in the sandbox (None: here)
                signals = await sandboxed_signals(self._client(), command, plan, bars, self.settings)
                outcome = await asyncio.to_thread(simulate, plan, bars, signals)
                self.last_phases["simulated"] = time.perf_counter()
                await self.progress(command, "storing", 90.0)
                if not await self.still_running(conn, command):
                    return
                await self.results.save(conn, command.backtest_id, outcome, command.request.initial_cash)
                completion = optimise_job.completion_of(outcome, command.request.initial_cash)
            else:
                await self.progress(command, "optimising", FETCH_SHARE)
                if await self._spread(conn, command, plan, bars):
                    return
                async with conn.begin_nested() as stored:  # the search's rows: kept if still running
                    completion = await self.optimiser.run(
                        conn, command.backtest_id, plan, bars, self._checkpoint(command)
                    )
                    await self.progress(command, "storing", 90.0)
                    if not await self.still_running(conn, command):
                        await stored.rollback()
                        return
            await self.complete(conn, command, completion)
        except Cancelled:
            await self.finish(conn, command, "cancelled")
        except PlanError as error:
            await self.finish(conn, command, "failed", "invalid_request", str(error))
        except UserCodeFailed as error:
            await self.finish(conn, command, "failed", "user_code_failed", str(error))
        except (RunFailure, OptimisationFailure, MalformedCandles, BadBars) as error:
            code = error.code if isinstance(error, RunFailure | OptimisationFailure) else "bad_market_data"
            await self.finish(conn, command, "failed", code, str(error))
        except Unavailable as error:
            sandbox = isinstance(error, SandboxUnavailable)
            if not final_attempt:
                raise TransientError(
                    str(error) if sandbox else f"market-data unavailable: {error}"
                ) from error
            code = "sandbox_unavailable" if sandbox else "market_data_unavailable"
            await self.finish(conn, command, "failed", code, str(error))

    async def _spread(
        self, conn: AsyncConnection, command: RunCommand, plan: RunPlan, bars: BarArrays
    ) -> bool:
        """A search bigger than one chunk goes to every replica as chunk commands (sweep_job.py);
        False when it fits one chunk and runs here."""
        assert plan.search is not None
        check_bars(bars)
        windows = self.optimiser.windows(plan, len(bars))
        chunks = plan_chunks(len(plan.search.candidates), [(start, end) for start, end, _ in windows],
                             self.settings.optimise_chunk_bar_evaluations)  # fmt: skip
        if len(chunks) < 2:
            return False
        await self.sweeps.start(conn, command, chunks)
        self.sweeps.keep(command.backtest_id, bars, plan)
        return True

    async def still_running(self, conn: AsyncConnection, command: AnyCommand) -> bool:
        """Lock the run in the storing transaction (no progress update may follow); False when it
        became final meanwhile (swept as ``worker_lost``): then nothing is stored or announced."""
        if await self.runs.lock_running(conn, command.backtest_id):
            return True
        log.warning("backtest %s became final while it ran; its results are dropped", command.backtest_id)
        return False

    async def beat(self, backtest_id: str) -> None:
        """Stamp the run as alive every ``HEARTBEAT_INTERVAL_S`` until cancelled (see sweeper.py)."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval_s)
            if not self.beats:
                continue
            try:
                async with self.engine().begin() as conn:
                    await self.runs.beat(conn, backtest_id)
            except Exception as error:  # a missed beat only matters if the bound passes without one
                log.warning("heartbeat of backtest %s failed: %r", backtest_id, error)

    def _checkpoint(self, command: RunCommand) -> Callable[[float], Awaitable[None]]:
        """Between optimisation chunks: a progress event every 5 points, else a cancel check."""
        reported = [FETCH_SHARE]

        async def checkpoint(percent: float) -> None:
            if percent - reported[0] >= 5.0:
                reported[0] = percent
                await self.progress(command, "optimising", percent)
            elif await self._cancel_requested(command.backtest_id):
                raise Cancelled

        return checkpoint

    async def fetch_retrying(self, command: AnyCommand, plan: RunPlan) -> tuple[BarArrays, RunPlan]:
        """``_fetch``, tried again in this delivery while market-data is unavailable (not started
        yet, restarting): after ``retry_delays`` (bounded exponential backoff), then the consumer's
        redelivery takes over. Cancel is honoured between tries."""
        delays = retry_delays(
            self.settings.market_data_retries,
            self.settings.market_data_retry_first_s,
            self.settings.market_data_retry_max_s,
        )
        for delay in delays:
            try:
                return await self._fetch(command, plan)
            except Unavailable as error:
                log.info("backtest %s: market-data unavailable (%s); again in %.1fs",
                         command.backtest_id, error, delay)  # fmt: skip
            waited = 0.0
            while waited < delay:
                step = min(CANCEL_CHECK_S, delay - waited)
                await asyncio.sleep(step)
                waited += step
                if await self._cancel_requested(command.backtest_id):
                    raise Cancelled
        return await self._fetch(command, plan)

    def _pages(self, command: AnyCommand, plan: RunPlan) -> AsyncGenerator[CandlePage, None]:
        client, caller = self._client(), CallerContext(user_id=command.user_id)
        size, timeout = self.settings.candles_page_size, self.settings.market_data_timeout_s
        if plan.dataset_id is not None:
            return dataset_pages(client, caller, dataset_id=plan.dataset_id, start_ns=plan.start_ns,
                                 end_ns=plan.end_ns, page_size=size, timeout_s=timeout)  # fmt: skip
        assert plan.symbol is not None and plan.timeframe is not None
        assert plan.start_ns is not None and plan.end_ns is not None
        source = BlockSource(client, caller, symbol=plan.symbol, venue=plan.venue, timeframe=plan.timeframe,
                             timeframe_ns=TIMEFRAME_SECONDS[plan.timeframe] * 1_000_000_000,
                             page_size=self.settings.candle_block_size, timeout_s=timeout,
                             cache=self.candle_cache)  # fmt: skip
        return source.pages(plan.start_ns, plan.end_ns, self.settings.candles_concurrency)

    async def _fetch(self, command: AnyCommand, plan: RunPlan) -> tuple[BarArrays, RunPlan]:
        """Every bar of the run (candles or dataset), with cancel checks and progress between pages;
        the plan comes back annualised on the bars (``with_bars``)."""
        pages: list[BarArrays] = []
        count = 0
        reported = 0.0
        interval = None
        lo, hi = plan.start_ns, plan.end_ns
        checked = time.monotonic()
        try:
            async with contextlib.aclosing(self._pages(command, plan)) as stream:
                async for page in stream:
                    interval = interval or page.interval_ns
                    lo = page.range_ns[0] if lo is None else lo
                    hi = page.range_ns[1] if hi is None else hi
                    pages.append(page.bars)
                    count += len(page.bars)
                    if count > self.settings.max_bars:
                        raise RunFailure(
                            "too_many_bars", f"the range holds over {self.settings.max_bars} bars"
                        )
                    start, span = lo or 0, max((hi or 0) - (lo or 0), 1)
                    done = FETCH_SHARE * min(max(((page.last_ns or start) - start) / span, 0.0), 1.0)
                    if page.done:
                        break
                    if done - reported >= 10.0:
                        reported = done
                        checked = time.monotonic()
                        await self.progress(command, "fetching", done)
                    elif time.monotonic() - checked >= CANCEL_CHECK_S:
                        checked = time.monotonic()
                        if await self._cancel_requested(command.backtest_id):
                            raise Cancelled
        except RemoteError as error:
            raise RunFailure(f"market_data_{error.code}", f"market-data: {error.message}") from error
        bars = concat(pages)
        if len(bars) < 2:
            source = f"dataset {plan.dataset_id}" if plan.dataset_id else f"{plan.symbol} {plan.timeframe}"
            raise RunFailure("no_data", f"fewer than two bars for {source} in the range")
        if plan.timeframe is not None:
            bar_ns = TIMEFRAME_SECONDS[plan.timeframe] * 1_000_000_000
        else:
            bar_ns = interval or int(np.median(np.diff(bars.time)))
        return bars, with_bars(plan, bars.time, bar_ns)

    async def complete(self, conn: AsyncConnection, command: AnyCommand, completion: Completion) -> None:
        if await self._cancel_requested(command.backtest_id):
            raise Cancelled
        run = await self.runs.finish(conn, command.backtest_id, "completed")
        if run is None:
            raise Cancelled
        metrics = completion.metrics
        event = BacktestCompleted(
            backtest_id=command.backtest_id,
            user_id=command.user_id,
            bar_count=completion.bar_count,
            trade_count=completion.trade_count,
            final_equity=completion.final_equity,
            total_return=metric_or_none(metrics.get("total_return", float("nan"))),
            sharpe=metric_or_none(metrics.get("sharpe", float("nan"))),
            max_drawdown=metric_or_none(metrics.get("max_drawdown", float("nan"))),
            finished_at=run.finished_at,
        )
        await self.outbox.add(conn, event, command.backtest_id)
        self.metrics.finished("completed", completion.bar_count)

    async def finish(
        self,
        conn: AsyncConnection,
        command: AnyCommand,
        status: str,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        run = await self.runs.finish(conn, command.backtest_id, status, error_code=code, error=message)
        if run is None:
            return  # already final (e.g. cancelled meanwhile): nothing to announce twice
        self.metrics.finished(status)
        if status == "failed":
            log.info("backtest %s failed: %s: %s", command.backtest_id, code, message)
            failed = BacktestFailed(
                backtest_id=command.backtest_id,
                user_id=command.user_id,
                error_code=code or "failed",
                error=message or "",
                finished_at=run.finished_at,
            )
            await self.outbox.add(conn, failed, command.backtest_id)
        else:
            cancelled = BacktestCancelled(
                backtest_id=command.backtest_id, user_id=command.user_id, finished_at=run.finished_at
            )
            await self.outbox.add(conn, cancelled, command.backtest_id)
