"""Catalog operations: templates, indicators, and an indicator computed over bars for a chart."""

from __future__ import annotations

import asyncio

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
from tradeloom.shared.errors import field_invalid, require_user
from tradeloom.strategy_runner.catalogs.bars import BarsSource
from tradeloom.strategy_runner.domain import indicator_series
from tradeloom.strategy_runner.domain.templates import TemplateError, known_templates, template_spec


def param_info(spec: ParamSpec) -> ParamInfo:
    return ParamInfo.model_validate(spec.as_dict())


class CatalogsApi:
    def __init__(self, bars: BarsSource) -> None:
        self._bars = bars
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
