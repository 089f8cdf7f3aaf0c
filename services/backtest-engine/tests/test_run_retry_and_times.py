"""market-data not up yet: the run is tried again soon in the same delivery; timestamps are true."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tradeloom.backtest_engine.worker import RUNS_CONSUMER, retry_delays
from tradeloom.shared.contracts.backtest import BacktestCompleted, BacktestFailed


def test_retry_delays_double_and_are_capped() -> None:
    assert retry_delays(6, 0.5, 8.0) == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delays(0, 0.5, 8.0) == []


async def wait_status(harness: Any, backtest_id: str, wanted: str, timeout_s: float = 30.0) -> dict[str, Any]:
    async def until() -> dict[str, Any]:
        while True:
            reply = await harness.call("status", {"backtest_id": backtest_id})
            if reply["status"] == wanted:
                return reply
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(until(), timeout_s)


async def test_run_waits_for_market_data_within_its_delivery(harness: Any, start_market: Any) -> None:
    """No market-data responder at first: the worker retries in-process (no redelivery, whose wait
    is the production consumer's 30 s here), and completes once market-data answers."""
    await harness.start_service(runs_consumer=RUNS_CONSUMER, market_data_retry_max_s=1.0,
                                market_data_retries=20)  # fmt: skip
    backtest_id = await harness.submit()
    await wait_status(harness, backtest_id, "running")
    await start_market()
    done = await harness.events.wait_for(backtest_id, "completed", timeout_s=25)
    completed = done.unwrap(BacktestCompleted)
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "completed"
    started, finished = datetime.fromisoformat(status["started_at"]), completed.finished_at
    assert started <= finished == datetime.fromisoformat(status["finished_at"])


async def test_failed_run_finishes_after_it_started(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit(symbol="NOPE/USDT")
    failed = (await harness.events.wait_for(backtest_id, "failed")).unwrap(BacktestFailed)
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "failed" and status["error_code"] == "market_data_not_found"
    started = datetime.fromisoformat(status["started_at"])
    assert datetime.fromisoformat(status["created_at"]) <= started <= failed.finished_at
