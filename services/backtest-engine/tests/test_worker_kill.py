"""kill -9: the backtest-engine process dies mid-run (SIGKILL while its worker waits for candles);
after a restart the command is delivered again and the run completes exactly once: one results
row, one ``completed`` event (on the wire and in the outbox), trades stored once, two attempts."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.worker import RUNS_CONSUMER
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess

# The child's run consumer redelivers after 3 s instead of 30 s (see ServiceProcess).
# two service start-ups (up to 90 s each on a loaded machine) and a redelivery
pytestmark = pytest.mark.timeout(600)
BACKOFF = {RUNS_CONSUMER.durable: (3.0, 3.0, 3.0)}


async def _scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def test_a_worker_killed_mid_run_completes_the_run_once_after_restart(
    harness: Any,
    gated_market: Any,
    db_engine: AsyncEngine,
    bt_schema: str,
    tmp_path: Path,
    database_url: str,
    nats_url: str,
    nats_prefix: str,
) -> None:
    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": bt_schema, "environment": "test", "market_data_timeout_s": 60,
    }  # fmt: skip
    service = ServiceProcess("backtest_engine", settings, tmp_path, BACKOFF)
    with service:
        market = gated_market  # the worker's first candle request waits: it is mid-run
        await asyncio.to_thread(service.start)
        backtest_id = await harness.submit()
        s = bt_schema
        await eventually(lambda: market.calls >= 1, "the worker asked for candles")
        status = f'SELECT status FROM "{s}".runs WHERE backtest_id = :id'
        assert await _scalar(db_engine, status, id=backtest_id) == "running"

        assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
        market.gate.set()
        assert await _scalar(db_engine, status, id=backtest_id) == "running"
        assert harness.events.of(backtest_id, "completed") == []

        await asyncio.to_thread(service.start)
        completed = await harness.events.wait_for(backtest_id, "completed", timeout_s=90)

        js = harness.nc.jetstream()
        stream = harness.subjects.stream(RUNS_CONSUMER.stream)

        async def settled() -> bool:  # the command acked, every event relayed: nothing more can come
            info = await js.consumer_info(stream, RUNS_CONSUMER.durable)
            unsent = await _scalar(db_engine, f'SELECT count(*) FROM "{s}".outbox WHERE published_at IS NULL')
            return info.num_pending == 0 and info.num_ack_pending == 0 and unsent == 0

        await eventually(settled, "run command acked and outbox relayed", timeout=60)
    assert len(harness.events.of(backtest_id, "completed")) == 1
    assert harness.events.of(backtest_id, "failed") == []
    one = {"id": backtest_id}
    assert await _scalar(db_engine, status, **one) == "completed"
    assert await _scalar(db_engine, f'SELECT attempts FROM "{s}".runs WHERE backtest_id = :id', **one) == 2
    assert await _scalar(db_engine, f'SELECT count(*) FROM "{s}".results WHERE backtest_id = :id', **one) == 1
    stored = await _scalar(db_engine, f'SELECT count(*) FROM "{s}".trades WHERE backtest_id = :id', **one)
    assert stored == completed.data["trade_count"] > 0
    completions = await _scalar(
        db_engine, f"SELECT count(*) FROM \"{s}\".outbox WHERE subject LIKE '%.completed.%'"
    )
    assert completions == 1
