"""Wiring: the one place analytics builds its concrete objects."""

from tradeloom.analytics import SERVICE, __version__, api
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
from tradeloom.analytics.chain_quotes import expiries_cache
from tradeloom.analytics.ledger import Ledger
from tradeloom.analytics.leg_quotes import LegQuotes
from tradeloom.analytics.option_marker import OptionMarker
from tradeloom.analytics.owners import Owners
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.evaluations_store import EvaluationsStore
from tradeloom.analytics.store.intraday_store import IntradayStore
from tradeloom.analytics.store.option_strategies_store import OptionStrategiesStore
from tradeloom.analytics.store.rule_sets_store import RuleSetsStore
from tradeloom.analytics.watches import Watches
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import consumer_spec


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with analytics's operations and consumers registered, not yet started."""
    assert isinstance(settings, AnalyticsSettings)
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    engine = lambda: runtime.engine  # noqa: E731
    store = EquityStore(settings.db_schema)
    client = lambda: runtime.client  # noqa: E731
    intraday = IntradayStore(settings.db_schema)
    outbox = lambda: runtime.outbox  # noqa: E731
    quotes = LegQuotes(client, settings.remote_timeout_s)
    marker = OptionMarker(
        engine, OptionStrategiesStore(settings.db_schema), outbox, interval_s=settings.option_mark_interval_s,
        quotes=quotes,
    )  # fmt: skip
    ledger = Ledger(engine, store, intraday, settings.roll_interval_s, on_price=marker.note)
    owners = Owners(engine, client, store, settings.remote_timeout_s)
    performance = PerformanceApi(engine, store, owners)
    prop = PropFirmApi(engine, RuleSetsStore(settings.db_schema), performance, intraday)
    evaluations = EvaluationsStore(settings.db_schema)
    watches = Watches(engine, store, evaluations, prop, outbox, interval_s=settings.roll_interval_s)
    risk = RiskApi(engine, store, performance)
    trades = TradesApi(engine, store, owners, performance)
    api.register(
        runtime,
        performance=performance,
        risk=risk,
        trades=trades,
        prop=prop,
        watches=watches,
        opts=OptionsApi(),
        portfolio=PortfolioApi(engine, client, store, settings.remote_timeout_s),
        strategy=StrategyReportApi(engine, store, owners, performance),
        chain=ChainApi(
            engine, client, store, settings.remote_timeout_s, expiries_cache(settings.chain_expiries_cache_s)
        ),
        greeks=PortfolioGreeksApi(trades, client, settings.remote_timeout_s),
        saved=OptionStrategiesApi(engine, marker.store, marker, quotes, store),
    )
    runtime.add_batch_consumer(
        consumer_spec("analytics_orders"), ledger.on_orders, gather_s=settings.orders_gather_s
    )
    runtime.add_consumer(consumer_spec("analytics_candles"), ledger.on_candle)
    runtime.add_batch_consumer(
        consumer_spec("analytics_trades"), ledger.on_trades, gather_s=settings.trades_gather_s
    )
    runtime.add_task(ledger.run)
    runtime.add_task(watches.run)
    runtime.add_task(marker.run)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=AnalyticsSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
