"""``/v1/analytics``: performance of the money at work, each route one ``svc.analytics.<op>``.

``{scope}`` is ``account``, ``bot`` or ``strategy``; ``start``/``end`` are UTC days (inclusive).
All routes take scope ``read``. Another user's account, bot or strategy answers 404, like an
unknown one; a bad range is 422 naming ``start`` or ``end``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Path, Query

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.analytics import (
    SERVICE,
    CompareReply,
    CompareRequest,
    EquityCurve,
    MetricsReply,
    PnlReply,
    PnlRequest,
    PortfolioSummary,
    RangeRequest,
    RiskReply,
    RiskRequest,
    SummaryRequest,
)
from tradeloom.shared.contracts.wire import Positive

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
READ = Scope.READ
SCOPE = Param(
    "scope",
    Literal["account", "bot", "strategy"],
    Path(description="what the id names: account, bot or strategy"),
)
ID = Param("id", str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$", description="its id"))
RANGE = (
    Param("start", dt.date | None, Query(description="first UTC day (default: the first with a fill)"), None),
    Param("end", dt.date | None, Query(description="last UTC day (default: today)"), None),
    Param(
        "capital",
        Positive | None,
        Query(description="equity before the first fill (account: inferred)"),
        None,
    ),
)
ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)

ROUTES = (
    Forward(
        "GET", "/summary", READ, SERVICE, "summary", SummaryRequest, PortfolioSummary,
        name="portfolio_summary", errors=ERRORS,
        summary="Net PnL, day PnL and exposure across the caller's accounts",
    ),
    Forward(
        "GET", "/{scope}/{id}/equity", READ, SERVICE, "equity", RangeRequest, EquityCurve,
        name="equity_curve", path_params=(SCOPE, ID), query=RANGE, errors=ERRORS,
        summary="Daily equity, returns and drawdown of an account, bot or strategy",
    ),
    Forward(
        "GET", "/{scope}/{id}/pnl", READ, SERVICE, "pnl", PnlRequest, PnlReply,
        name="pnl_by_period", path_params=(SCOPE, ID), errors=ERRORS,
        query=(*RANGE, Param("period", Literal["day", "month"], Query(description="day or month"), "day")),
        summary="Daily or monthly PnL and returns",
    ),
    Forward(
        "GET", "/{scope}/{id}/metrics", READ, SERVICE, "metrics", RangeRequest, MetricsReply,
        name="performance_metrics", path_params=(SCOPE, ID), query=RANGE, errors=ERRORS,
        summary="Every tradeloom.quant metric of the daily returns over a range",
    ),
    Forward(
        "GET", "/{scope}/{id}/risk", READ, SERVICE, "risk", RiskRequest, RiskReply,
        name="risk_analytics", path_params=(SCOPE, ID), errors=ERRORS,
        query=(
            *RANGE,
            Param("confidence", float, Query(ge=0.5, le=0.999, description="0.95: the worst 5 % of days"),
                  0.95),
            Param("simulations", int, Query(ge=100, le=1_000_000, description="Monte Carlo draws"), 10_000),
            Param("seed", int, Query(ge=0, le=2**32 - 1, description="Monte Carlo seed"), 0),
            Param("benchmark", str | None, Query(min_length=3, max_length=64, description="symbol for beta"),
                  None),
        ),
        summary="Volatility, VaR and CVaR (historical, parametric, Monte Carlo), beta and correlation",
    ),
    Forward(
        "POST", "/compare", READ, SERVICE, "compare", CompareRequest, CompareReply,
        name="compare_performance", body=CompareRequest, errors=ERRORS,
        summary="Bots (or strategies) side by side on the same range and capital",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
