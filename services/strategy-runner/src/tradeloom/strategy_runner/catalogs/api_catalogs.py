"""Catalog operations: templates, indicators, and an indicator (built-in or the caller's own)
computed over bars for a chart."""

from __future__ import annotations

import asyncio
from typing import Any

from tradeloom.quant.strategies.schema import ParamSpec
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.catalogs import (
    CatalogRequest,
    IndicatorCompute,
    IndicatorInfo,
    IndicatorList,
    IndicatorSeries,
    ParamInfo,
    TemplateInfo,
    TemplateList,
)
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.errors import field_invalid, require_user
from tradeloom.strategy_runner.catalogs.api_user_indicators import UserIndicatorsApi, checked_params
from tradeloom.strategy_runner.catalogs.bars import Bars, BarsSource
from tradeloom.strategy_runner.catalogs.user_indicator_runs import UserIndicatorRuns
from tradeloom.strategy_runner.domain import indicator_series
from tradeloom.strategy_runner.domain.graph import compiled_indicator
from tradeloom.strategy_runner.domain.templates import TemplateError, known_templates, template_spec
from tradeloom.strategy_runner.domain.user_indicator import graph_outputs


def param_info(spec: ParamSpec) -> ParamInfo:
    return ParamInfo.model_validate(spec.as_dict())


class CatalogsApi:
    def __init__(self, bars: BarsSource, user_indicators: UserIndicatorsApi, runs: UserIndicatorRuns) -> None:
        self._bars = bars
        self._user_indicators = user_indicators
        self._runs = runs
        self._templates = TemplateList(
            items=[
                TemplateInfo(
                    name=spec.name, description=spec.description, params=[param_info(p) for p in spec.params]
                )
                for spec in map(template_spec, known_templates())
            ]
        )
        self._indicators = IndicatorList(
            items=[
                IndicatorInfo(
                    name=spec.name,
                    description=spec.description,
                    inputs=list(spec.inputs),
                    params=[param_info(p) for p in spec.params],
                    outputs=list(spec.outputs),
                )
                for spec in indicator_series.catalog()
            ]
        )

    @staticmethod
    async def warm_up(_stop: asyncio.Event) -> None:
        """A start-up task: the kernels compiled before the first request needs them."""
        await asyncio.to_thread(indicator_series.warm_up)

    async def templates(self, _caller: CallerContext, _body: CatalogRequest) -> TemplateList:
        return self._templates

    async def indicators(self, _caller: CallerContext, _body: CatalogRequest) -> IndicatorList:
        return self._indicators

    async def compute(self, caller: CallerContext, body: IndicatorCompute) -> IndicatorSeries:
        require_user(caller)
        if (body.symbol is None) == (body.dataset_id is None):
            raise field_invalid("symbol", "give either symbol (stored candles) or dataset_id, not both")
        if body.dataset_id is not None and body.venue is not None:
            raise field_invalid("venue", "a dataset has no venue: leave it out with dataset_id")
        if body.from_ns is not None and body.to_ns is not None and body.to_ns < body.from_ns:
            raise field_invalid("to_ns", "must not be before from_ns")
        if body.user_indicator_id is not None:
            return await self._compute_user(caller, body)
        if body.indicator is None:
            raise field_invalid("indicator", "give a built-in indicator or user_indicator_id")
        if body.user_indicator_version is not None:
            raise field_invalid("user_indicator_version", "only with user_indicator_id")
        try:
            spec, params = indicator_series.checked_indicator(body.indicator, body.params)
        except TemplateError as error:
            raise field_invalid(error.field, error.message) from None
        bars = await self._bars.load(caller, body)
        return IndicatorSeries(
            indicator=spec.name, params=params, source=body.source, venue=bars.venue, symbol=bars.symbol,
            timeframe=None if body.dataset_id else body.timeframe, dataset_id=body.dataset_id,
            open_ns=bars.open_ns.tolist(),
            outputs=await asyncio.to_thread(indicator_series.series, spec, params, bars.columns, body.source),
        )  # fmt: skip

    async def _compute_user(self, caller: CallerContext, body: IndicatorCompute) -> IndicatorSeries:
        """The caller's own indicator run in the sandbox; ``params`` override the version's."""
        assert body.user_indicator_id is not None
        if body.indicator is not None:
            raise field_invalid("indicator", "give either indicator or user_indicator_id, not both")
        row = await self._user_indicators.version_row(
            caller, body.user_indicator_id, body.user_indicator_version
        )
        if row.kind == "graph":
            if body.params:
                raise field_invalid(
                    "params", "a graph indicator keeps its parameters in its nodes: leave out"
                )
            plan = compiled_indicator(StrategyGraph.model_validate(row.graph))
            params: dict[str, Any] = {}
            bars = await self._bars.load(caller, body)
            outputs = await asyncio.to_thread(graph_outputs, plan, bars.columns, bars.open_ns)
        else:
            params = {**row.params, **checked_params(body.params)}
            bars = await self._bars.load(caller, body)
            outputs = await self._runs.outputs(require_user(caller), row.code, params, _columns(bars))
        return IndicatorSeries(
            indicator=f"user:{row.indicator_id}", user_indicator_version=row.version, params=params,
            source=body.source, venue=bars.venue, symbol=bars.symbol,
            timeframe=None if body.dataset_id else body.timeframe, dataset_id=body.dataset_id,
            open_ns=bars.open_ns.tolist(), outputs=outputs,
        )  # fmt: skip


def _columns(bars: Bars) -> dict[str, list[float] | list[int]]:
    """The sandbox's bar columns (``tradeloom.shared.user_code.COLUMNS``) from loaded bars."""
    columns: dict[str, list[float] | list[int]] = {name: bars.columns[name].tolist() for name in bars.columns}
    columns["time"] = bars.open_ns.tolist()
    return columns
