"""Signals of a user-code strategy for a bot, computed only by sandbox-executor (never in this
process): one run as the strategy's owner over the closed bars the bot reads
(``tradeloom.shared.user_code``), answered as the signal of each bar; likewise a graph's Python
user indicators: one run per node over those bars, then the compiled graph here. ``UserCodeFailed``:
the code's fault (naming the node and line), the bot stops; ``Unavailable``: the sandbox's, the bar
is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import SandboxLimits
from tradeloom.shared.user_code_client import sandbox_signals
from tradeloom.shared.user_indicator_client import graph_indicator_outputs
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.domain.graph_bot_signals import graph_signal_names, python_outputs
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

    async def of_bot(self, row: Any, bars: Sequence[Bar]) -> list[str] | None:
        """Each bar's signal where the sandbox computes it (user code; a graph with Python
        indicators), else ``None`` (the bot computes it per bar)."""
        if row.code is not None:
            return await self.signals(row.user_id, row.code, row.params, bars)
        wanted = python_outputs(row.graph)
        if not wanted:
            return None
        graph = StrategyGraph.model_validate(row.graph)
        series = await graph_indicator_outputs(
            self._client(), row.user_id, graph, wanted, bar_columns(bars), self.limits
        )
        return graph_signal_names(row.graph, bars, series)
