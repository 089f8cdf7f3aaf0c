"""Signals of a user-code strategy for a bot, computed only by sandbox-executor (never in this
process): one run as the strategy's owner over the closed bars the bot reads
(``tradeloom.shared.user_code``), answered as the signal of each bar. ``UserCodeFailed``: the
code's fault, the bot stops; ``Unavailable``: the sandbox's, the bar is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import SandboxLimits
from tradeloom.shared.user_code_client import sandbox_signals
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.domain.user_code import bar_columns, signal_names


class CodeSignals:
    def __init__(self, client: Callable[[], ServiceClient], limits: SandboxLimits) -> None:
        self._client = client
        self.limits = limits

    async def signals(
        self, user_id: str, code: str, params: Mapping[str, Any], bars: Sequence[Bar]
    ) -> list[str]:
        """The signal of each bar (``none`` where there is none), oldest first."""
        found = await sandbox_signals(self._client(), user_id, code, params, bar_columns(bars), self.limits)
        return signal_names(len(bars), found)
