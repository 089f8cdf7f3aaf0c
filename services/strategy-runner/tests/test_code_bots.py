"""Bots of user-code strategies: the user's sma_cross is the built-in's; the code's own faults
stop a bot, the sandbox's are retried. (A code bot trading against a real sandbox-executor, and a
failing one stopping, are in test_bot_parity.)"""

from __future__ import annotations

from typing import Any

import pytest
from bots_harness import PARAMS, PRICES

from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.sandbox_uids import uid_base
from tradeloom.shared.user_code import SandboxLimits, UserCodeFailed
from tradeloom.strategy_runner.bots.code_signals import CodeSignals
from tradeloom.strategy_runner.domain.bot_decision import Bar, last_signal

UID_BASE = uid_base(238_000)  # apart from the service default and the other services' sandbox tests
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
