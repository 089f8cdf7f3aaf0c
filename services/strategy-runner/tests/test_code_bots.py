"""Bots of user-code strategies: the signals come only from a real sandbox-executor; a failing
code stops its bot with a decision naming the error and the line, never the runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bots_harness import PARAMS, PRICES, BotsEnv, crossing_bar, decisions, eventually, service_runtime

from tradeloom.sandbox_executor import app as sandbox_app
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.user_code import SandboxLimits, UserCodeFailed
from tradeloom.strategy_runner.bots.code_signals import CodeSignals
from tradeloom.strategy_runner.domain.bot_decision import Bar, last_signal

UID_BASE = 238_000  # apart from the service default and the other services' sandbox tests
# sma_cross written by a user: the same running sums and strict crosses as the built-in kernel
SMA_CROSS = """import numpy as np


def sma(x, n):
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.full(len(x), np.nan)
    out[n - 1 :] = (c[n:] - c[:-n]) / n
    return out


def generate_signals(bars, params):
    fast = sma(bars["close"], int(params["fast"]))
    slow = sma(bars["close"], int(params["slow"]))
    prev_f = np.concatenate([[np.nan], fast[:-1]])
    prev_s = np.concatenate([[np.nan], slow[:-1]])
    return {"entry_long": (prev_f < prev_s) & (fast > slow), "exit_long": (prev_f > prev_s) & (fast < slow)}
"""
FAILING = "def generate_signals(bars, params):\n    n = len(bars['close'])\n    return n / 0\n"


@pytest.fixture
async def code_env(
    bots_env: BotsEnv, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str
) -> AsyncIterator[BotsEnv]:
    """The bots' world plus a real sandbox-executor (quotas wide enough for a test's bursts)."""
    async with service_runtime(
        sandbox_app, SandboxExecutorSettings, pg_server, database_url, nats_url, nats_prefix,
        uid_base=UID_BASE, rate_per_minute=600, quota_concurrent=4,
    ):  # fmt: skip

        async def ready() -> bool:  # its isolation probe passed: runs are not refused as unavailable
            health = await bots_env.sr.client.call_raw("sandbox-executor", "health", {}, timeout_s=10)
            return bool(health["ready"])

        await eventually(ready, timeout_s=120)
        yield bots_env


async def test_a_code_bot_buys_on_the_cross_and_a_failing_one_stops(code_env: BotsEnv) -> None:
    env = code_env
    account = await env.orders("accounts_create", {"name": "code bots"})
    body = {"strategy_version": 1, "account_id": account["account_id"], "symbol": "BTC/USDT",
            "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "1"},
            "max_position": "20"}  # fmt: skip
    bots = {}
    for name, code in (("cross", SMA_CROSS), ("failing", FAILING)):
        strategy = await env.sr(
            "strategies_create", {"name": name, "kind": "code", "code": code, "params": PARAMS}
        )
        bot = await env.sr("bots_create", {**body, "name": name, "strategy_id": strategy["strategy_id"]})
        bots[name] = bot["bot_id"]
    cross = crossing_bar()
    await env.market.bars(0, cross - 1)  # history the bots find when they decide
    for bot_id in bots.values():
        assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    await env.market.bars(cross, cross + 1)

    async def settled() -> bool:
        failed = (await env.sr("bots_get", {"bot_id": bots["failing"]}))["status"] == "error"
        bought = any(d["action"] == "buy" and d["order_id"] for d in await decisions(env.sr, bots["cross"]))
        return failed and bought

    await eventually(settled, timeout_s=120)
    buys = [d for d in await decisions(env.sr, bots["cross"]) if d["action"] == "buy"]
    assert [(d["signal"], d["bar_ns"]) for d in buys] == [("entry_long", env.market.bar_ns(cross))]
    failing = await env.sr("bots_get", {"bot_id": bots["failing"]})
    assert "ZeroDivisionError at line 3" in failing["status_reason"]
    logged = await decisions(env.sr, bots["failing"])
    assert [d["action"] for d in logged] == ["failed"]
    assert "ZeroDivisionError at line 3" in logged[0]["reason"]


def test_the_users_sma_cross_is_the_builtins() -> None:
    """What the sandbox computes above equals the built-in kernel on every bar (run here only as
    a check of the test's own code, never by the service)."""
    namespace: dict[str, Any] = {}
    exec(SMA_CROSS, namespace)
    bars = [Bar(i, p, p, p, p) for i, p in enumerate(PRICES)]
    columns = {"close": __import__("numpy").array([b.close for b in bars])}
    signals = namespace["generate_signals"](columns, PARAMS)
    for n in range(1, len(bars) + 1):
        builtin = last_signal("sma_cross", PARAMS, bars[:n])
        mine = (
            "entry_long"
            if signals["entry_long"][n - 1]
            else "exit_long"
            if signals["exit_long"][n - 1]
            else "none"
        )
        assert mine == builtin, n


class _Refusing:
    """A ServiceClient stand-in answering every call with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        raise RemoteError(self.code, "refused", {"line": 4} if self.code == "syntax_error" else None)


@pytest.mark.parametrize("code", ["time_limit", "memory_limit", "syntax_error", "quota_exceeded"])
async def test_the_codes_own_faults_stop_and_the_sandboxs_are_retried(code: str) -> None:
    bars = [Bar(1, 1.0, 1.0, 1.0, 1.0)]
    signals = CodeSignals(lambda: _Refusing(code), SandboxLimits(1.0, 64))  # type: ignore[arg-type, return-value]
    with pytest.raises(UserCodeFailed, match=code):
        await signals.signals("u", FAILING, {}, bars)
    busy = CodeSignals(lambda: _Refusing("rate_limited"), SandboxLimits(1.0, 64))  # type: ignore[arg-type, return-value]
    with pytest.raises(Exception, match="rate_limited") as retried:
        await busy.signals("u", FAILING, {}, bars)
    assert not isinstance(retried.value, UserCodeFailed)
