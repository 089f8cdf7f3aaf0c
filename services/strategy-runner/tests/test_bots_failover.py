"""kill -9 of strategy-runner (a real subprocess) in the middle of a candle stream, then a new
process: the dead replica's lease expires, the new one takes the bot over, catches up on the bars
closed meanwhile, and the crossing bar's order reaches order-router exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bots_harness import (
    PRICES,
    Market,
    approve_risk,
    crossing_bar,
    decisions,
    eventually,
    new_bot,
    trading_stack,
)
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sr_caller import Caller

from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port


class RunnerProcess:
    """``python -m tradeloom.strategy_runner run`` with the test's settings (lease 3 s)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradeloom.strategy_runner", "run"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
async def world(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any,
    tmp_path: Path,
) -> AsyncIterator[tuple[RunnerProcess, Caller, Caller, Market]]:  # fmt: skip
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    risk = await approve_risk(nc, subjects)
    env = {
        **os.environ,
        "TL_STRATEGY_RUNNER_DATABASE_URL": database_url, "TL_STRATEGY_RUNNER_NATS_URL": nats_url,
        "TL_STRATEGY_RUNNER_NATS_PREFIX": nats_prefix, "TL_STRATEGY_RUNNER_DB_SCHEMA": sr_schema,
        "TL_STRATEGY_RUNNER_ENVIRONMENT": "test", "TL_STRATEGY_RUNNER_HEALTH_PORT": str(free_port()),
        "TL_STRATEGY_RUNNER_LOG_JSON": "false", "TL_STRATEGY_RUNNER_BOT_LEASE_TTL_S": "3",
        "TL_STRATEGY_RUNNER_BOT_TICK_S": "0.2",
    }  # fmt: skip
    runner = RunnerProcess(env, tmp_path / "strategy-runner.log")
    client = ServiceClient(nc, subjects)
    try:
        async with trading_stack(pg_server, database_url, nats_url, nats_prefix):
            yield (
                runner,
                Caller(client, "alice"),
                Caller(client, "alice", "order-router"),
                Market.recent(nc, subjects),
            )
    finally:
        runner.stop()
        await risk.unsubscribe()


async def ping(sr: Caller) -> str | None:
    try:
        return str((await sr("ping"))["instance_id"])
    except ServiceError:
        return None


async def test_kill_9_mid_stream_then_restart_sends_the_order_once_and_takes_the_lease(
    world: tuple[RunnerProcess, Caller, Caller, Market], database_url: str, sr_schema: str
) -> None:
    runner, sr, orders, market = world
    runner.start()
    await eventually(lambda: _answers(sr))
    first = await ping(sr)
    bot_id, account_id = await new_bot(sr, orders)
    cross = crossing_bar()
    await market.bars(0, cross - 1)  # closes bars up to cross-2

    async def decided_before_cross() -> bool:
        bot = await sr("bots_get", {"bot_id": bot_id})
        return bool(bot["last_bar_ns"] == market.bar_ns(cross - 2))

    await eventually(decided_before_cross)
    runner.kill()
    await market.bars(cross, cross + 1)  # closes the crossing bar while no replica runs
    runner.start()
    await eventually(lambda: _answers(sr))
    second = await ping(sr)
    assert second is not None and second != first

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(sr, bot_id))

    await eventually(ordered)
    await market.trade_now(PRICES[cross + 2])

    async def long() -> bool:
        return (await sr("bots_get", {"bot_id": bot_id}))["position"] == "1"

    await eventually(long)
    listed = await orders("orders_list", {"account_id": account_id})
    assert [(o["side"], o["status"]) for o in listed["items"]] == [("buy", "filled")]
    log = await decisions(sr, bot_id)
    assert len({d["bar_ns"] for d in log}) == len(log)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            owner = (
                await conn.execute(
                    text(f'SELECT owner FROM "{sr_schema}".bot_leases WHERE bot_id::text = :b'), {"b": bot_id}
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert owner == second


async def _answers(sr: Caller) -> bool:
    return await ping(sr) is not None
