"""Every published event and request/reply model, in one place, for contract generation.

Each domain declares its own ``EVENTS`` and ``REQUESTS`` in its module of this package (so work on
different services never edits the same file); this module only gathers them.
"""

from __future__ import annotations

from pydantic import BaseModel

from tradeloom.shared.contracts import (
    analytics,
    analytics_chain,
    analytics_options,
    analytics_portfolio,
    analytics_option_strategies,
    analytics_propfirm,
    auth,
    backtest,
    bot_ledger,
    bot_config,
    bots,
    catalogs,
    dca_bots,
    exchange_connections,
    grid_bots,
    jobs,
    market_data,
    market_data_chain_quotes,
    market_data_imports,
    market_data_option_chain,
    market_data_preprocess,
    market_data_subscriptions,
    market_data_trades,
    orders,
    orders_batch,
    orders_perps,
    risk,
    risk_monitor,
    risk_perps,
    risk_var,
    sandbox,
    schedules,
    strategy,
    user_indicators,
)
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.system import ErrorReply, PingReply, PingRequest, ServiceStarted
from tradeloom.shared.envelope import Envelope

SERVICES: tuple[str, ...] = (
    "gateway-auth",
    "market-data",
    "order-router",
    "risk-monitor",
    "backtest-engine",
    "analytics",
    "sandbox-executor",
    "strategy-runner",
)

# The Postgres schema each service owns (DESIGN section 1); its login role is tl_<package>.
SCHEMAS: dict[str, str] = {service: service.replace("-", "_") for service in SERVICES} | {
    "gateway-auth": "gateway"
}


SYSTEM_EVENTS: tuple[EventContract, ...] = (
    EventContract(ServiceStarted, "SYSTEM", ("service",), "A service instance came up."),
)

SYSTEM_REQUESTS: tuple[RequestContract, ...] = (
    RequestContract("*", "ping", PingRequest, PingReply, "Liveness and version of a service."),
)

EVENTS: tuple[EventContract, ...] = (
    *SYSTEM_EVENTS,
    *auth.EVENTS,
    *market_data.EVENTS,
    *backtest.EVENTS,
    *sandbox.EVENTS,
    *orders.EVENTS,
    *orders_perps.EVENTS,
    *risk.EVENTS,
    *risk_monitor.EVENTS,
    *bots.EVENTS,
    *analytics_propfirm.EVENTS,
    *analytics_option_strategies.EVENTS,
)

REQUESTS: tuple[RequestContract, ...] = (
    *SYSTEM_REQUESTS,
    *auth.REQUESTS,
    *market_data.REQUESTS,
    *market_data_trades.REQUESTS,
    *market_data_preprocess.REQUESTS,
    *market_data_subscriptions.REQUESTS,
    *market_data_imports.REQUESTS,
    *market_data_option_chain.REQUESTS,
    *market_data_chain_quotes.REQUESTS,
    *backtest.REQUESTS,
    *strategy.REQUESTS,
    *strategy.BUILDER_REQUESTS,
    *bots.REQUESTS,
    *bot_config.REQUESTS,
    *bot_ledger.REQUESTS,
    *grid_bots.REQUESTS,
    *dca_bots.REQUESTS,
    *catalogs.REQUESTS,
    *user_indicators.REQUESTS,
    *schedules.REQUESTS,
    *jobs.REQUESTS,
    *sandbox.REQUESTS,
    *orders.REQUESTS,
    *orders_batch.REQUESTS,
    *risk.REQUESTS,
    *exchange_connections.REQUESTS,
    *risk_monitor.REQUESTS,
    *risk_perps.REQUESTS,
    *risk_var.REQUESTS,
    *analytics.REQUESTS,
    *analytics_propfirm.REQUESTS,
    *analytics_options.REQUESTS,
    *analytics_chain.REQUESTS,
    *analytics_portfolio.REQUESTS,
    *analytics_option_strategies.REQUESTS,
)

SHARED_MODELS: tuple[type[BaseModel], ...] = (Envelope, ErrorReply)
