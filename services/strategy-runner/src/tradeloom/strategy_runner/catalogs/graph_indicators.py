"""The ``user_indicator`` nodes of a graph resolved against the caller's saved indicators and
inlined (``domain/graph_user_indicators.py``) before a graph is validated or saved."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.graph import GraphRefused
from tradeloom.strategy_runner.domain.graph_user_indicators import IndicatorVersion, inline, references
from tradeloom.strategy_runner.graph_errors import graph_refused
from tradeloom.strategy_runner.store.user_indicators_store import UserIndicatorsStore


class GraphIndicators:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str) -> None:
        self._engine = engine
        self.store = UserIndicatorsStore(schema)

    async def inlined(self, user_id: str, graph: StrategyGraph) -> StrategyGraph:
        """``graph`` with its user indicators inlined; a 422 naming node and port otherwise (another
        user's indicator answers like an unknown one)."""
        found: dict[tuple[str, int], IndicatorVersion] = {}
        wanted = set(references(graph))
        if wanted:
            async with self._engine().connect() as conn:
                for indicator_id, version in sorted(wanted):
                    row = await self.store.version(conn, indicator_id, user_id, version)
                    if row is not None:
                        found[(indicator_id, version)] = IndicatorVersion(row.kind, row.graph)
        try:
            return inline(graph, found)
        except GraphRefused as error:
            raise graph_refused(error) from None

    async def checked(self, user_id: str, graph: StrategyGraph | None) -> StrategyGraph | None:
        return None if graph is None else await self.inlined(user_id, graph)
