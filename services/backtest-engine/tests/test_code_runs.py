"""Backtests of saved user-code strategies: the signals come only from a real sandbox-executor,
and a user's sma_cross trades exactly like the built-in; a failing code fails the run naming the line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client
from saved_kit import real_sandbox, saved_body, saved_versions

from tradeloom.shared.contracts.backtest import BacktestCompleted, BacktestFailed
from tradeloom.shared.contracts.strategy import StrategyVersionInfo, StrategyVersionRef
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.sandbox_uids import uid_base

UID_BASE = uid_base(239_000)  # apart from the service default and the other services' sandbox tests
# sma_cross written by a user: the kernel's running sums and strict crosses
SMA_CROSS = """import numpy as np


def sma(x, n):
    out = np.full(len(x), np.nan)
    total = 0.0
    for i in range(len(x)):
        total += x[i]
        if i >= n:
            total -= x[i - n]
        if i >= n - 1:
            out[i] = total / n
    return out


def generate_signals(bars, params):
    fast = sma(bars["close"], int(params["fast"]))
    slow = sma(bars["close"], int(params["slow"]))
    prev_f = np.concatenate([[np.nan], fast[:-1]])
    prev_s = np.concatenate([[np.nan], slow[:-1]])
    return {"entry_long": (prev_f < prev_s) & (fast > slow), "exit_long": (prev_f > prev_s) & (fast < slow)}
"""
FAILING = "def generate_signals(bars, params):\n    return {'entry_long': len(bars) / 0}\n"
SOURCES = {"s-code": SMA_CROSS, "s-failing": FAILING}


@pytest.fixture
async def sandbox(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> AsyncIterator[None]:
    async with real_sandbox(pg_server, database_url, nats_url, nats_prefix, nc, UID_BASE):
        yield


def code_version(body: StrategyVersionRef) -> StrategyVersionInfo:
    return StrategyVersionInfo(
        strategy_id=body.strategy_id, version=1, kind="code", template="code", params={"fast": 5, "slow": 20},
        code=SOURCES[body.strategy_id], created_at=datetime.now(UTC),
    )  # fmt: skip


async def test_a_code_backtest_trades_like_the_builtin(
    harness: Any, start_market: Any, sandbox: None
) -> None:
    await start_market()
    async with saved_versions(harness, code_version):
        await harness.start_service()
        saved = saved_body(harness)
        code_run = (await harness.call("submit", saved | {"strategy_id": "s-code"}))["backtest_id"]
        failing_run = (await harness.call("submit", saved | {"strategy_id": "s-failing"}))["backtest_id"]
        builtin_run = await harness.submit()
        ours = (await harness.events.wait_for(code_run, "completed", 90)).unwrap(BacktestCompleted)
        theirs = (await harness.events.wait_for(builtin_run, "completed", 90)).unwrap(BacktestCompleted)
        assert ours.trade_count == theirs.trade_count > 0
        assert ours.final_equity == theirs.final_equity
        status = await harness.call("status", {"backtest_id": code_run})
        assert status["strategy"] == "code" and status["strategy_version"] == 1
        trades = await harness.call("trades", {"backtest_id": code_run, "limit": 500})
        expected = await harness.call("trades", {"backtest_id": builtin_run, "limit": 500})
        assert [t["pnl"] for t in trades["items"]] == [t["pnl"] for t in expected["items"]]
        failed = (await harness.events.wait_for(failing_run, "failed", 90)).unwrap(BacktestFailed)
        assert failed.error_code == "user_code_failed"
        assert "ZeroDivisionError at line 2" in failed.error
        with pytest.raises(RemoteError) as direct:  # the source only comes from a saved strategy
            await harness.call("submit", harness.body(code=SMA_CROSS))
        assert direct.value.details["fields"][0]["field"] == "code"
        await harness.settled()
