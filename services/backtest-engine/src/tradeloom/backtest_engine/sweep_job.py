"""Searches and walk-forwards bigger than one chunk, spread over every replica.

The replica that takes the run command fetches the bars, writes one ``sweep_chunks`` row per chunk
and one ``backtest.cmd.chunk.v1`` command per chunk (outbox, envelope id
``<backtest_id>.chunk.<seq>``) in its inbox transaction, and acks: the run stays ``running``. Every
replica's run consumer takes chunk commands like run commands. A chunk's handler fetches the bars
(kept for the next chunk of the same run), evaluates its parameter sets in a thread, then, in its
inbox transaction with the run row locked, stores the result once (``done_at IS NULL``: a chunk
redelivered after a crash, or evaluated twice, counts once) and records progress. The handler that
stores the last result merges every chunk's table in ``seq`` order, stores the search like a local
one (``OptimisationJob.store``) and completes the run. Cancel: a chunk that starts, or finishes,
after the owner asked finishes the run ``cancelled``; later chunks find it final and are acked
without effect.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.adapters.candles_source import MalformedCandles
from tradeloom.backtest_engine.domain.run_plan import PlanError, RunPlan, plan_run
from tradeloom.backtest_engine.domain.simulation import BadBars, BarArrays
from tradeloom.backtest_engine.domain.sweep import (
    ChunkSpec,
    evaluate_spec,
    merge_folds,
    pack_table,
    unpack_table,
)
from tradeloom.backtest_engine.optimise_job import OptimisationFailure
from tradeloom.backtest_engine.run_errors import Cancelled, RunFailure
from tradeloom.backtest_engine.store.chunks_store import ChunksStore
from tradeloom.shared.contracts.backtest import BacktestProgress, RunChunkCommand, RunCommand, SubmitBacktest
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError, TransientError, Unavailable
from tradeloom.shared.publish import make_envelope

if TYPE_CHECKING:
    from tradeloom.backtest_engine.worker import BacktestWorker

START, END = 60.0, 90.0  # the share of the progress bar spent optimising
KEEP_BARS = 2  # runs whose bars a replica keeps for their next chunks


class DistributedSweep:
    def __init__(self, worker: BacktestWorker) -> None:
        self.worker = worker
        self.chunks = ChunksStore(worker.settings.db_schema)
        self.replica = uuid.uuid4().hex[:12]  # names this process in ``sweep_chunks.worker``
        self._bars: OrderedDict[str, tuple[BarArrays, RunPlan]] = OrderedDict()

    def keep(self, backtest_id: str, bars: BarArrays, plan: RunPlan) -> None:
        self._bars[backtest_id] = (bars, plan)
        self._bars.move_to_end(backtest_id)
        while len(self._bars) > KEEP_BARS:
            self._bars.popitem(last=False)

    async def start(self, conn: AsyncConnection, command: RunCommand, chunks: list[ChunkSpec]) -> None:
        """Write the chunks and their commands in the run command's inbox transaction."""
        await self.chunks.insert(conn, command.backtest_id, chunks)
        outbox = self.worker.outbox
        for chunk in chunks:
            message = RunChunkCommand(backtest_id=command.backtest_id, user_id=command.user_id, seq=chunk.seq)
            subject = outbox.subjects.command(message.domain, message.name, message.major)
            message_id = f"{command.backtest_id}.chunk.{chunk.seq}"
            envelope = make_envelope(message, outbox.source, event_id=message_id, subject=command.backtest_id)
            await outbox.add_envelope(conn, subject, envelope)

    async def handle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            command = envelope.unwrap(RunChunkCommand)
        except ValueError as error:
            raise PermanentError(f"not a chunk command: {error}") from error
        worker = self.worker
        try:
            await self._chunk(conn, command)
        except Unavailable as error:
            raise TransientError(f"market-data unavailable: {error}") from error
        except PlanError as error:
            await worker.finish(conn, command, "failed", "invalid_request", str(error))
        except Cancelled:
            await worker.finish(conn, command, "cancelled")
        except (RunFailure, OptimisationFailure, MalformedCandles, BadBars) as error:
            code = error.code if isinstance(error, RunFailure | OptimisationFailure) else "bad_market_data"
            await worker.finish(conn, command, "failed", code, str(error))

    async def _chunk(self, conn: AsyncConnection, command: RunChunkCommand) -> None:
        worker, backtest_id = self.worker, command.backtest_id
        async with worker.engine().begin() as side:
            run = await worker.runs.get(side, backtest_id)
            if run is not None and run.status == "running":
                await worker.runs.beat(side, backtest_id)
        found = await self.chunks.get(conn, backtest_id, command.seq)
        if run is None or run.status != "running" or found is None or found[1]:
            return  # final (cancelled, failed, completed, swept) or this chunk is counted already
        if run.cancel_requested:
            await worker.finish(conn, command, "cancelled")
            return
        spec = found[0]
        bars, plan = await self._bars_of(command, run.request)
        if worker.fault is not None:
            await worker.fault("chunk")
        try:
            table = await asyncio.to_thread(evaluate_spec, plan, bars, spec)
        except ValueError as error:
            raise RunFailure("simulation_rejected", str(error)) from error
        if not await worker.runs.lock_running(conn, backtest_id):
            return
        if await worker.runs.cancel_requested(conn, backtest_id):
            await worker.finish(conn, command, "cancelled")
            return
        if not await self.chunks.save(conn, backtest_id, spec.seq, self.replica, pack_table(table)):
            return
        done, total = await self.chunks.counts(conn, backtest_id)
        if done < total:
            await self._progress(conn, command, done, total)
            return
        parts = [
            (fold, unpack_table(plan.strategy, raw))
            for fold, raw in await self.chunks.results(conn, backtest_id)
        ]
        windows = worker.optimiser.windows(plan, len(bars))
        tables = merge_folds(plan.strategy, len(windows), parts)
        completion = await worker.optimiser.store(
            conn, backtest_id, plan, bars=bars, windows=windows, tables=tables
        )
        await worker.complete(conn, command, completion)
        self._bars.pop(backtest_id, None)

    async def _bars_of(self, command: RunChunkCommand, request: dict[str, Any]) -> tuple[BarArrays, RunPlan]:
        kept = self._bars.get(command.backtest_id)
        if kept is not None:
            return kept
        plan = plan_run(SubmitBacktest.model_validate(request))
        bars, plan = await self.worker.fetch_retrying(command, plan)
        self.keep(command.backtest_id, bars, plan)
        return bars, plan

    async def _progress(self, conn: AsyncConnection, command: RunChunkCommand, done: int, total: int) -> None:
        """Progress in the chunk's own transaction (it holds the run row); an event every 5 points."""
        percent = START + (END - START) * done / total
        before = START + (END - START) * (done - 1) / total
        await self.worker.runs.progress(conn, command.backtest_id, "optimising", percent)
        if int(percent // 5) != int(before // 5):
            event = BacktestProgress(
                backtest_id=command.backtest_id,
                user_id=command.user_id,
                phase="optimising",
                percent=round(percent, 1),
                at=datetime.now(UTC),
            )
            await self.worker.outbox.add(conn, event, command.backtest_id)
