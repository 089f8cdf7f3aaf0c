"""The ``user_indicator`` nodes of a graph resolved against the caller's saved indicators before a
graph is validated or saved (``domain/graph_user_indicators.py``): a builder-graph indicator is
inlined; a Python one runs once in the sandbox over probe bars, as the caller, to learn its output
names (an error in its code is a 422 on ``graph.nodes.<node>.indicator`` naming the user's line;
the sandbox down is ``unavailable``), and its node keeps its source and parameters."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.catalogs.user_indicator_runs import UserIndicatorRuns
from tradeloom.strategy_runner.domain.graph import GraphRefused
from tradeloom.strategy_runner.domain.graph_user_indicators import (
    NODE_TYPE,
    IndicatorVersion,
    inline,
    references,
)
from tradeloom.strategy_runner.domain.user_indicator import probe_columns
from tradeloom.strategy_runner.graph_errors import graph_refused
from tradeloom.strategy_runner.store.user_indicators_store import UserIndicatorsStore


class GraphIndicators:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, runs: UserIndicatorRuns) -> None:
        self._engine = engine
        self.store = UserIndicatorsStore(schema)
        self.runs = runs

    async def inlined(self, user_id: str, graph: StrategyGraph) -> StrategyGraph:
        """``graph`` with its user indicators inlined (or kept, a Python one); a 422 naming node and
        port otherwise (another user's indicator answers like an unknown one)."""
        found: dict[tuple[str, int], IndicatorVersion] = {}
        wanted = set(references(graph))
        if wanted:
            async with self._engine().connect() as conn:
                for indicator_id, version in sorted(wanted):
                    row = await self.store.version(conn, indicator_id, user_id, version)
                    if row is not None:
                        found[(indicator_id, version)] = IndicatorVersion(
                            row.kind, row.graph, row.code, dict(row.params or {})
                        )
        for ref in sorted(found):
            if found[ref].kind == "code":
                found[ref] = await self._probed(user_id, graph, ref, found[ref])
        try:
            return inline(graph, found)
        except GraphRefused as error:
            raise graph_refused(error) from None

    async def _probed(
        self, user_id: str, graph: StrategyGraph, ref: tuple[str, int], version: IndicatorVersion
    ) -> IndicatorVersion:
        """``version`` with the output names its code gives over the probe bars."""
        node = next(
            n.id
            for n in graph.nodes
            if n.type == NODE_TYPE and n.indicator is not None
            and (n.indicator.indicator_id, n.indicator.version) == ref
        )  # fmt: skip
        assert version.code is not None
        outputs = await self.runs.outputs(
            user_id, version.code, version.params, probe_columns(),
            field=f"graph.nodes.{node}.indicator", prefix=f"node {node}: ",
        )  # fmt: skip
        return IndicatorVersion(version.kind, None, version.code, version.params, tuple(outputs))

    async def checked(self, user_id: str, graph: StrategyGraph | None) -> StrategyGraph | None:
        return None if graph is None else await self.inlined(user_id, graph)
