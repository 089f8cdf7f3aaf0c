"""Request/reply operations of analytics (``svc.analytics.<op>``); ping is built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tradeloom.analytics.api_chain import ChainApi
from tradeloom.analytics.api_option_strategies import OptionStrategiesApi
from tradeloom.analytics.api_options import OptionsApi
from tradeloom.analytics.api_performance import PerformanceApi
from tradeloom.analytics.api_portfolio import PortfolioApi
from tradeloom.analytics.api_portfolio_greeks import PortfolioGreeksApi
from tradeloom.analytics.api_propfirm import PropFirmApi
from tradeloom.analytics.api_risk import RiskApi
from tradeloom.analytics.api_strategy import StrategyReportApi
from tradeloom.analytics.api_trades import TradesApi
from tradeloom.analytics.watches import Watches
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts import (
    analytics,
    analytics_chain,
    analytics_option_strategies,
    analytics_options,
    analytics_portfolio,
    analytics_propfirm,
)
from tradeloom.shared.rpc import JsonReply, Operation
from tradeloom.shared.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    *,
    performance: PerformanceApi,
    risk: RiskApi,
    trades: TradesApi,
    prop: PropFirmApi,
    watches: Watches,
    opts: OptionsApi,
    portfolio: PortfolioApi,
    strategy: StrategyReportApi,
    chain: ChainApi,
    greeks: PortfolioGreeksApi,
    saved: OptionStrategiesApi,
) -> None:
    """Every operation declared in ``contracts.analytics``, ``analytics_propfirm`` and
    ``analytics_options``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel | JsonReply]]] = {
        "equity": performance.equity,
        "pnl": performance.pnl,
        "metrics": performance.metrics,
        "compare": performance.compare,
        "summary": performance.summary,
        "risk": risk.risk,
        "positions": trades.positions,
        "distribution": trades.distribution,
        "prop_rule_sets_list": prop.list,
        "prop_rule_sets_create": prop.create,
        "prop_rule_sets_delete": prop.delete,
        "prop_evaluate": prop.evaluate,
        "prop_watch": watches.watch,
        "prop_watches_list": watches.list,
        "prop_unwatch": watches.unwatch,
        "options_greeks": opts.greeks,
        "options_iv": opts.implied,
        "options_strategy": opts.strategy,
        "balances": portfolio.balances,
        "strategy_report": strategy.report,
        "options_chain": chain.chain,
        "options_chain_columns": chain.columns,
        "options_portfolio_greeks": greeks.portfolio_greeks,
        "option_strategies_create": saved.create,
        "option_strategies_list": saved.list,
        "option_strategies_get": saved.get,
        "option_strategies_delete": saved.delete,
        "option_strategies_payoff": saved.payoff,
    }
    for contract in (
        *analytics.REQUESTS,
        *analytics_propfirm.REQUESTS,
        *analytics_options.REQUESTS,
        *analytics_chain.REQUESTS,
        *analytics_portfolio.REQUESTS,
        *analytics_option_strategies.REQUESTS,
    ):
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
