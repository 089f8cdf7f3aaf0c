"""``/v1/analytics``: performance of the money at work, each route one ``svc.analytics.<op>``.

``/accounts/{account_id}/…``, ``/bots/{bot_id}/…`` and ``/strategies/{strategy_id}/…`` each have
``equity``, ``pnl``, ``metrics`` and ``risk``; ``start``/``end`` are UTC days (inclusive).
All routes take scope ``read``. Another user's account, bot or strategy answers 404, like an
unknown one; a bad range is 422 naming ``start`` or ``end``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.analytics import (
    SERVICE,
    CompareReply,
    CompareRequest,
    DistributionReply,
    DistributionRequest,
    EquityCurve,
    MetricsReply,
    PnlReply,
    PnlRequest,
    PortfolioSummary,
    PositionsReply,
    RangeRequest,
    RiskReply,
    RiskRequest,
    ScopeRef,
    SummaryRequest,
)
from tradeloom.shared.contracts.analytics_chain import ChainColumnsReply
from tradeloom.shared.contracts.analytics_option_strategies import (
    STRATEGY_ID,
    OptionStrategyCreate,
    OptionStrategyDeleted,
    OptionStrategyInfo,
    OptionStrategyList,
    OptionStrategyListRequest,
    OptionStrategyPayoff,
    OptionStrategyPayoffRequest,
    OptionStrategyRef,
)
from tradeloom.shared.contracts.analytics_options import (
    ChainReply,
    ChainRequest,
    GreeksReply,
    GreeksRequest,
    IvReply,
    IvRequest,
    PortfolioGreeksReply,
    PortfolioGreeksRequest,
    StrategyReply,
    StrategyRequest,
)
from tradeloom.shared.contracts.analytics_portfolio import (
    BalancesRequest,
    PortfolioBalances,
    StrategyReport,
    StrategyReportRequest,
)
from tradeloom.shared.contracts.analytics_propfirm import (
    EvaluateRequest,
    EvaluationReply,
    RuleSetCreate,
    RuleSetDeleted,
    RuleSetInfo,
    RuleSetList,
    RuleSetListRequest,
    RuleSetRef,
    WatchDeleted,
    WatchInfo,
    WatchList,
    WatchListRequest,
    WatchRef,
    WatchRequest,
)
from tradeloom.shared.contracts.wire import Positive

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
# Batches of up to MAX_BATCH options: their own body limit (settings.option_batch_max_bytes).
BATCH_PATHS = ("/v1/analytics/options/greeks", "/v1/analytics/options/implied-volatility")


def batch_deadline(request: GreeksRequest | IvRequest) -> float:
    """2 s plus 1 s per 1,000 items: a 10,000-item batch is priced in ~1.5 s on a busy 2-core box."""
    return 2.0 + len(request.items) / 1000


BATCH_ERRORS = {**READ_ERRORS, **problem_responses(413)}  # a body over option_batch_max_bytes


READ, TRADE = Scope.READ, Scope.TRADE
# wider than routes.params.ID_PATTERN (also "." and ":"); kept, so no id accepted today is refused
ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
# (path segment, path parameter, the request's scope)
SCOPES = (
    ("accounts", "account_id", "account"),
    ("bots", "bot_id", "bot"),
    ("strategies", "strategy_id", "strategy"),
)
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
RULE_SET_ID = Param(
    "rule_set_id", str,
    Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="a rule set id"),
)  # fmt: skip

OPTION_STRATEGY_ID = Param(
    "option_strategy_id", str, Path(pattern=STRATEGY_ID, description="a saved option strategy (os-…)")
)

RISK_QUERY = (
    *RANGE,
    Param("confidence", float, Query(ge=0.5, le=0.999, description="0.95: the worst 5 % of days"), 0.95),
    Param("simulations", int, Query(ge=100, le=1_000_000, description="Monte Carlo draws"), 10_000),
    Param("seed", int, Query(ge=0, le=2**32 - 1, description="Monte Carlo seed"), 0),
    Param("benchmark", str | None, Query(min_length=3, max_length=64, description="symbol for beta"), None),
)
PNL_QUERY = (*RANGE, Param("period", Literal["day", "month"], Query(description="day or month"), "day"))
# (op, request, reply, query, summary)
SCOPED_OPS: tuple[tuple[str, type[BaseModel], type[BaseModel], tuple[Param, ...], str], ...] = (
    ("equity", RangeRequest, EquityCurve, RANGE, "Daily equity, returns and drawdown"),
    ("pnl", PnlRequest, PnlReply, PNL_QUERY, "Daily or monthly PnL and returns"),
    ("metrics", RangeRequest, MetricsReply, RANGE, "Every tradeloom.quant metric of the daily returns"),
    ("positions", ScopeRef, PositionsReply, (), "Open positions and exposure by asset"),
    ("distribution", DistributionRequest, DistributionReply,
     (*RANGE, Param("bins", int, Query(ge=2, le=200, description="histogram bins"), 20)),
     "Histogram of daily returns; fills, notional and PnL by hour, weekday and symbol"),
    ("risk", RiskRequest, RiskReply, RISK_QUERY,
     "Volatility, VaR and CVaR (historical, parametric, Monte Carlo), beta and correlation"),
)  # fmt: skip


def _as_scope(scope: str, param: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``prepare``: the path's object id becomes the request's (scope, id)."""

    def prepare(inputs: dict[str, Any]) -> dict[str, Any]:
        rest = {name: value for name, value in inputs.items() if name != param}
        return {**rest, "scope": scope, "id": inputs[param]}

    return prepare


def _scoped() -> list[Forward]:
    routes = []
    for segment, param, scope in SCOPES:
        article = "an" if scope == "account" else "a"
        path_param = Param(
            param,
            str,
            Path(min_length=1, max_length=64, pattern=ID_PATTERN, description=f"{article} {scope} id"),
        )
        for op, request, reply, query, summary in SCOPED_OPS:
            routes.append(
                Forward(
                    "GET", f"/{segment}/{{{param}}}/{op}", READ, SERVICE, op, request, reply,
                    name=f"{scope}_{op}", path_params=(path_param,), query=query, errors=READ_ERRORS,
                    prepare=_as_scope(scope, param), names={"id": f"path.{param}"},
                    summary=f"{summary} of {article} {scope}",
                )
            )  # fmt: skip
        routes.append(
            Forward(
                "GET", f"/{segment}/{{{param}}}/prop-firm/{{rule_set_id}}", READ, SERVICE, "prop_evaluate",
                EvaluateRequest, EvaluationReply,
                name=f"{scope}_prop_evaluation", path_params=(path_param, RULE_SET_ID), query=RANGE[:2],
                errors=READ_ERRORS, prepare=_as_scope(scope, param), names={"id": f"path.{param}"},
                summary=f"Evaluate {article} {scope} against a prop-firm rule set: passed, failed or in "
                "progress, breaches and the distance to each limit",
            )
        )  # fmt: skip
    return routes


CHAIN_QUERY = (
    Param("underlying", str, Query(min_length=3, max_length=64, description="spot symbol: BTC/USDT")),
    Param("venue", str, Query(min_length=1, max_length=32, description="venue"), "sim"),
    Param("expiry", dt.date | None, Query(description="its UTC day (default: nearest)"), None),
    Param("volatility", float, Query(ge=1e-4, le=10, description="for the Greeks (0.5 = 50 %)")),
    Param("rate", float, Query(ge=-1, le=1, description="risk-free rate"), 0.0),
    Param("dividend_yield", float, Query(ge=-1, le=1, description="dividend or carry yield"), 0.0),
    Param("strike_from", float | None, Query(ge=0, description="strikes >= this"), None),
    Param("strike_to", float | None, Query(ge=0, description="strikes <= this"), None),
)  # fmt: skip

ROUTES = (
    Forward(
        "GET", "/summary", READ, SERVICE, "summary", SummaryRequest, PortfolioSummary,
        name="portfolio_summary", errors=READ_ERRORS,
        summary="Net PnL, day PnL and exposure across the caller's accounts",
    ),
    Forward(
        "GET", "/balances", READ, SERVICE, "balances", BalancesRequest, PortfolioBalances,
        name="portfolio_balances", errors=READ_ERRORS,
        query=(Param("include_archived", bool, Query(description="archived accounts too"), False),),
        summary="Balances of every account of the caller (paper and exchange), valued; a service not "
        "answering is named in unavailable",
    ),
    *_scoped(),
    Forward(
        "GET", "/strategies/{strategy_id}/report", READ, SERVICE, "strategy_report", StrategyReportRequest,
        StrategyReport, name="strategy_report", errors=READ_ERRORS,
        path_params=(
            Param("strategy_id", str,
                  Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="a strategy id")),
        ),
        query=(
            *RANGE[:2],
            Param("capital", Positive, Query(description="equity the strategy's returns are measured on")),
            Param("top", int, Query(ge=1, le=20, description="how many best and worst symbols"), 3),
        ),
        summary="A strategy over all its bots: bots and their status, active bots, metrics, monthly PnL, "
        "best and worst symbols",
    ),
    Forward(
        "GET", "/prop-firm/rule-sets", READ, SERVICE, "prop_rule_sets_list", RuleSetListRequest, RuleSetList,
        name="list_prop_rule_sets", errors=READ_ERRORS,
        summary="Prop-firm rule sets: presets and the caller's own",
    ),
    Forward(
        "POST", "/prop-firm/rule-sets", TRADE, SERVICE, "prop_rule_sets_create", RuleSetCreate, RuleSetInfo,
        name="create_prop_rule_set", status=201, body=RuleSetCreate, errors=WRITE_ERRORS,
        summary="Store a prop-firm rule set of the caller's",
    ),
    Forward(
        "DELETE", "/prop-firm/rule-sets/{rule_set_id}", TRADE, SERVICE, "prop_rule_sets_delete", RuleSetRef,
        RuleSetDeleted, name="delete_prop_rule_set", path_params=(RULE_SET_ID,), errors=WRITE_ERRORS,
        summary="Delete one of the caller's prop-firm rule sets",
    ),
    Forward(
        "POST", "/prop-firm/watches", TRADE, SERVICE, "prop_watch", WatchRequest, WatchInfo,
        name="watch_prop_evaluation", status=201, body=WatchRequest, errors=WRITE_ERRORS,
        summary="Watch an account's or bot's evaluation: an analytics.evt.evaluation_status event on "
        "every status change",
    ),
    Forward(
        "GET", "/prop-firm/watches", READ, SERVICE, "prop_watches_list", WatchListRequest, WatchList,
        name="list_prop_watches", errors=READ_ERRORS, summary="The caller's watched evaluations",
    ),
    Forward(
        "DELETE", "/prop-firm/watches/{evaluation_id}", TRADE, SERVICE, "prop_unwatch", WatchRef,
        WatchDeleted, name="unwatch_prop_evaluation", errors=WRITE_ERRORS,
        summary="Stop watching an evaluation",
        path_params=(
            Param("evaluation_id", str,
                  Path(min_length=1, max_length=64, pattern=r"^e-[a-f0-9]+$", description="an evaluation")),
        ),
    ),
    Forward(
        "POST", "/compare", READ, SERVICE, "compare", CompareRequest, CompareReply,
        name="compare_performance", body=CompareRequest, errors=READ_ERRORS,
        summary="Bots (or strategies) side by side on the same range and capital",
    ),
    Forward(
        "GET", "/options/chain", READ, SERVICE, "options_chain", ChainRequest, ChainReply,
        name="option_chain", errors=READ_ERRORS,
        query=CHAIN_QUERY, raw_reply=True,
        summary="Option chain of an underlying and expiry: every strike's call and put with their Greeks "
        "(at most 1,000 strikes a reply: next_strike_from)",
    ),
    Forward(
        "GET", "/options/chain/columns", READ, SERVICE, "options_chain_columns", ChainRequest,
        ChainColumnsReply, name="option_chain_columns", errors=READ_ERRORS, query=CHAIN_QUERY, raw_reply=True,
        summary="The option chain as plain columns (one list per field, index i = strikes[i]): the same "
        "figures as /options/chain, paged the same way (up to 2,000 strikes a reply), for large chains",
    ),
    Forward(
        "GET", "/accounts/{account_id}/greeks", READ, SERVICE, "options_portfolio_greeks",
        PortfolioGreeksRequest, PortfolioGreeksReply, name="account_portfolio_greeks", errors=READ_ERRORS,
        path_params=(
            Param("account_id", str,
                  Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="an account id")),
        ),
        query=(Param("venue", str, Query(min_length=1, max_length=32, description="where options are quoted"),
                     "sim"),),
        summary="Net delta, gamma, vega and theta of an account's held options (and underlying) per "
        "underlying, at the current synthetic option quotes",
    ),
    Forward(
        "POST", "/options/greeks", READ, SERVICE, "options_greeks", GreeksRequest, GreeksReply,
        name="option_greeks", body=GreeksRequest, errors=BATCH_ERRORS, deadline=batch_deadline,
        summary="Price and Greeks of European options (Black-Scholes-Merton or Black-76), one or a batch",
    ),
    Forward(
        "POST", "/options/implied-volatility", READ, SERVICE, "options_iv", IvRequest, IvReply,
        name="option_implied_volatility", body=IvRequest, errors=BATCH_ERRORS, deadline=batch_deadline,
        summary="Implied volatility and Greeks of option prices; no_solution outside the no-arbitrage bounds",
    ),
    Forward(
        "POST", "/options/strategy", READ, SERVICE, "options_strategy", StrategyRequest, StrategyReply,
        name="option_strategy_m2m", body=StrategyRequest, errors=READ_ERRORS,
        summary="Mark-to-market, PnL and Greeks of a multi-leg option position, and its payoff curves",
    ),
    Forward(
        "POST", "/options/strategies", TRADE, SERVICE, "option_strategies_create", OptionStrategyCreate,
        OptionStrategyInfo, name="save_option_strategy", status=201, body=OptionStrategyCreate,
        errors=WRITE_ERRORS,
        summary="Save a multi-leg option position: revalued whenever a trade moves its underlying "
        "(analytics.evt.option_strategy_marked, also on the positions WebSocket channel)",
    ),
    Forward(
        "GET", "/options/strategies", READ, SERVICE, "option_strategies_list", OptionStrategyListRequest,
        OptionStrategyList, name="list_option_strategies", errors=READ_ERRORS,
        summary="The caller's saved option strategies with their latest valuation",
    ),
    Forward(
        "GET", "/options/strategies/{option_strategy_id}", READ, SERVICE, "option_strategies_get",
        OptionStrategyRef, OptionStrategyInfo, name="get_option_strategy", errors=READ_ERRORS,
        path_params=(OPTION_STRATEGY_ID,),
        summary="A saved option strategy and its latest valuation (value, PnL, Greeks, as-of price and time)",
    ),
    Forward(
        "GET", "/options/strategies/{option_strategy_id}/payoff", READ, SERVICE, "option_strategies_payoff",
        OptionStrategyPayoffRequest, OptionStrategyPayoff, name="option_strategy_payoff", errors=READ_ERRORS,
        path_params=(OPTION_STRATEGY_ID,),
        query=(
            Param("price_from", float | None,
                  Query(gt=0, le=1e12, description="lowest price (default 0.7 x the latest)"), None),
            Param("price_to", float | None,
                  Query(gt=0, le=1e12, description="highest price (default 1.3 x the latest)"), None),
            Param("steps", int, Query(ge=2, le=1001, description="prices in the range, ends included"), 101),
        ),
        summary="Payoff at the first expiry and today's value curve of a saved option strategy over a price "
        "range; each leg's volatility given or implied from its latest mid quote (and which)",
    ),
    Forward(
        "DELETE", "/options/strategies/{option_strategy_id}", TRADE, SERVICE, "option_strategies_delete",
        OptionStrategyRef, OptionStrategyDeleted, name="delete_option_strategy", errors=WRITE_ERRORS,
        path_params=(OPTION_STRATEGY_ID,), summary="Delete a saved option strategy",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
