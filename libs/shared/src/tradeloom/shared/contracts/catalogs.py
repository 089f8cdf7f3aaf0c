"""strategy-runner's catalogs (``svc.strategy-runner.templates_list``, ``indicators_*``).

Templates are the built-in strategies a saved strategy may name, each with its parameter schema
(type, range, default, description), so a UI can draw a form without hard-coding anything.
Indicators are ``tradeloom.quant``'s compiled indicators with their inputs, parameter schemas and
output names; ``indicators_compute`` runs one over a symbol's stored candles (market-data) or over
one of the caller's datasets, aligned to the candles' open times.

Error codes: ``validation_error`` 422 naming the field (``indicator``, ``params.window``,
``symbol``…), ``unauthorized`` 401, ``not_found`` 404 (an unknown symbol, or a dataset that does not
exist or is someone else's, as market-data answers).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract

SERVICE = "strategy-runner"
PARAM_TYPE = Literal["int", "float", "bool"]
SOURCE = Literal["open", "high", "low", "close", "volume"]
TIMEFRAME = Literal["1m", "5m", "15m", "1h", "4h", "1d", "1w"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CatalogRequest(_Request):
    """No fields: the whole catalog."""


class ParamInfo(_Reply):
    name: str = Field(examples=["window"])
    type: PARAM_TYPE
    default: int | float | bool
    minimum: float | None = Field(default=None, description="inclusive; none: unbounded")
    maximum: float | None = Field(default=None, description="inclusive; none: unbounded")
    description: str = ""


class TemplateInfo(_Reply):
    name: str = Field(examples=["sma_cross"])
    description: str
    params: list[ParamInfo]


class TemplateList(_Reply):
    items: list[TemplateInfo] = Field(description="by name")


class IndicatorInfo(_Reply):
    name: str = Field(examples=["bollinger"])
    description: str
    inputs: list[str] = Field(
        examples=[["source"]],
        description="bar columns the indicator reads; `source` is the one column the caller picks",
    )
    params: list[ParamInfo]
    outputs: list[str] = Field(examples=[["lower", "middle", "upper"]])


class IndicatorList(_Reply):
    items: list[IndicatorInfo] = Field(description="by name")


class IndicatorCompute(_Request):
    """One indicator over either a market's stored candles (``symbol``, ``venue``, ``timeframe``)
    or one of the caller's datasets (``dataset_id``): up to ``limit`` bars from ``from_ns``
    (inclusive) to ``to_ns``, oldest first. The first bars stay null until the window fills: start
    earlier to warm the indicator up."""

    indicator: str | None = Field(
        default=None, min_length=1, max_length=64, examples=["sma"],
        description="a built-in of the catalog; or leave it out and give `user_indicator_id`",
    )  # fmt: skip
    user_indicator_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="one of the caller's own indicators"
    )
    user_indicator_version: int | None = Field(
        default=None, ge=1, le=1_000_000, description="with user_indicator_id; default: its latest"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, max_length=16, examples=[{"window": 20}], description="numbers or booleans"
    )
    source: SOURCE = Field(default="close", description="the column a `source` input reads")
    symbol: str | None = Field(default=None, min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")
    timeframe: TIMEFRAME = "1m"
    dataset_id: str | None = Field(default=None, min_length=1, max_length=64)
    from_ns: int | None = Field(default=None, ge=0, examples=[1_704_067_200_000_000_000])
    to_ns: int | None = Field(default=None, ge=0, examples=[1_704_153_600_000_000_000])
    limit: int = Field(default=500, ge=1, le=5000)


class IndicatorSeries(_Reply):
    indicator: str = Field(description="the built-in's name, or `user:<id>` for a user indicator")
    user_indicator_version: int | None = Field(default=None, description="the user indicator's version run")
    params: dict[str, int | float | bool] = Field(description="with the defaults filled in")
    source: SOURCE
    venue: str | None = None
    symbol: str | None = None
    timeframe: str | None = None
    dataset_id: str | None = None
    open_ns: list[int] = Field(description="each bar's open time, oldest first")
    outputs: dict[str, list[float | None]] = Field(
        examples=[{"value": [None, 65000.5]}],
        description="each output's value per bar, aligned with open_ns; null before the window fills",
    )


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("templates_list", CatalogRequest, TemplateList, "The built-in strategy templates and their params."),
    _rq("indicators_list", CatalogRequest, IndicatorList, "The indicators, their params and outputs."),
    _rq("indicators_compute", IndicatorCompute, IndicatorSeries, "One indicator over candles or a dataset."),
)
