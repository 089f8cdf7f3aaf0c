"""``/v1/templates`` and ``/v1/indicators``: strategy-runner's catalogs and indicator series, each
route one ``svc.strategy-runner.<op>``.

The catalogs describe the built-in strategy templates and ``tradeloom.quant``'s indicators with
their parameter schemas, so a UI draws forms without hard-coding them. ``POST
/v1/indicators/compute`` computes one indicator over a market's stored candles or one of the
caller's datasets (another user's dataset answers 404, like an unknown one). All take scope
``read`` (computing changes nothing; the body carries the parameters, so it is a POST).
"""

from __future__ import annotations

from fastapi import APIRouter

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.catalogs import (
    SERVICE,
    CatalogRequest,
    IndicatorCompute,
    IndicatorList,
    IndicatorSeries,
    TemplateList,
)

router = APIRouter(prefix="/v1", tags=["catalogs"])
READ = Scope.READ
LIST_ERRORS = problem_responses(401, 403, 429, 503, 504)
COMPUTE_ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)

ROUTES = (
    Forward(
        "GET", "/templates", READ, SERVICE, "templates_list", CatalogRequest, TemplateList,
        name="list_templates", errors=LIST_ERRORS,
        summary="The built-in strategy templates with their parameter schemas",
        description="Types, ranges, defaults and descriptions of each template's parameters: what "
        "`POST /v1/strategies` accepts as `template` and `params`.",
    ),
    Forward(
        "GET", "/indicators", READ, SERVICE, "indicators_list", CatalogRequest, IndicatorList,
        name="list_indicators", errors=LIST_ERRORS,
        summary="The indicators with their inputs, parameter schemas and output names",
    ),
    Forward(
        "POST", "/indicators/compute", READ, SERVICE, "indicators_compute", IndicatorCompute,
        IndicatorSeries,
        name="compute_indicator", body=IndicatorCompute, errors=COMPUTE_ERRORS,
        summary="One indicator over a symbol's stored candles or a dataset, aligned to bar open times",
        description="Give `symbol` (with `venue`, `timeframe`) or `dataset_id`; up to `limit` bars "
        "from `from_ns`. A bad parameter → 422 naming it (`body.params.window`).",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
