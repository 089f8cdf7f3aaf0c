"""The other services' real runtimes (their ``build()``, each on a fresh migrated schema dropped
afterwards) for the gateway's tests that go through to them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import ModuleType
from typing import Any

from tradeloom.analytics import app as an_app
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.backtest_engine import app as bt_app
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.market_data import app as md_app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.order_router import app as or_app
from tradeloom.order_router.credentials import Keyring, new_key
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.risk_monitor import app as rm_app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service
from tradeloom.strategy_runner import app as sr_app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


@asynccontextmanager
async def service_runtime(
    app: ModuleType,
    settings_cls: type[ServiceSettings],
    pg_server: Any,
    database_url: str,
    nats_url: str,
    prefix: str,
    **overrides: Any,
) -> AsyncIterator[ServiceRuntime]:
    """The service's runtime on a fresh migrated schema, started; stopped and dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(app, database_url, schema)
    values: dict[str, Any] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": prefix, "db_schema": schema,
        "environment": "test", "health_port": free_port(),
    }  # fmt: skip
    runtime: ServiceRuntime = app.build(settings_cls(**(values | overrides)))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def market_data_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    """market-data without synthetic symbols (tests publish their own trades), no late-trade wait."""
    quiet = {"sim_symbols": [], "candle_tolerance_s": 0} | overrides
    return service_runtime(md_app, MarketDataSettings, pg_server, database_url, nats_url, prefix, **quiet)


def backtest_engine_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    return service_runtime(
        bt_app, BacktestEngineSettings, pg_server, database_url, nats_url, prefix, **overrides
    )


def strategy_runner_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    return service_runtime(
        sr_app, StrategyRunnerSettings, pg_server, database_url, nats_url, prefix, **overrides
    )


def order_router_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    """order-router; with no risk-monitor running its orders are rejected (fail closed). It seals
    exchange credentials with a fresh key (``overrides`` may point a venue at a stand-in)."""
    keys = {
        "credential_keys": Keyring({1: new_key()}, 1).format(),
        "risk_check_timeout_s": 2,  # the loaded test box, not the 50 ms deadline, is what this keeps out
    }
    return service_runtime(
        or_app, OrderRouterSettings, pg_server, database_url, nats_url, prefix, **(keys | overrides)
    )


def trading_market_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str
) -> AbstractAsyncContextManager[ServiceRuntime]:
    """market-data listing BTC/USDT on ``sim`` (so orders validate), one trade a second."""
    return market_data_runtime(
        pg_server, database_url, nats_url, prefix, sim_symbols=["BTC/USDT"], sim_trades_per_s=1
    )


def risk_monitor_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    """risk-monitor: answers order-router's pre-trade check, keeps positions, limits and halts."""
    return service_runtime(
        rm_app, RiskMonitorSettings, pg_server, database_url, nats_url, prefix, **overrides
    )


def analytics_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, **overrides: Any
) -> AbstractAsyncContextManager[ServiceRuntime]:
    """analytics: daily equity from fills and prices, performance and risk of the money at work."""
    return service_runtime(an_app, AnalyticsSettings, pg_server, database_url, nats_url, prefix, **overrides)
