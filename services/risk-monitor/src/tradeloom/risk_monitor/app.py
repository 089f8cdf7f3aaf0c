"""Wiring: the one place risk-monitor builds its concrete objects."""

from tradeloom.risk_monitor import SERVICE, __version__, api
from tradeloom.risk_monitor.alerts import Alerter
from tradeloom.risk_monitor.api_halts import HaltsApi
from tradeloom.risk_monitor.api_history import HistoryApi
from tradeloom.risk_monitor.api_limits import LimitsApi
from tradeloom.risk_monitor.api_perps import PerpsApi
from tradeloom.risk_monitor.api_positions import PositionsApi
from tradeloom.risk_monitor.api_var import VarApi
from tradeloom.risk_monitor.bot_alerts import BotAlerts
from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.check import PreTradeCheck
from tradeloom.risk_monitor.check_state import CheckState
from tradeloom.risk_monitor.domain.perps import PerpConfig
from tradeloom.risk_monitor.eod import EodRoller
from tradeloom.risk_monitor.flatten_results import FlattenResults
from tradeloom.risk_monitor.folding import OrderEvents
from tradeloom.risk_monitor.greek_alerts import GreekAlerts
from tradeloom.risk_monitor.heap import freeze_heap
from tradeloom.risk_monitor.margin_alerts import MarginAlerts
from tradeloom.risk_monitor.marks import Marks
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.option_book import OptionQuoteBook
from tradeloom.risk_monitor.option_check import OptionGreeksCheck
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.pending import PendingOrders
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.risk_monitor.store.check_store import CheckStore
from tradeloom.risk_monitor.store.eod_store import EodStore
from tradeloom.risk_monitor.store.perps_store import PerpsStore
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.batch_consumer import in_turn
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import consumer_spec


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with risk-monitor's operations and consumers registered, not yet started."""
    assert isinstance(settings, RiskMonitorSettings)
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    engine = lambda: runtime.engine  # noqa: E731
    client = lambda: runtime.client  # noqa: E731
    positions = PositionsStore(settings.db_schema)
    store = RiskStore(settings.db_schema)
    cache = RiskCache(engine, store, settings.cache_refresh_s)
    pending = PendingOrders(ttl_s=settings.pending_order_ttl_s)
    state = CheckState(engine, CheckStore(settings.db_schema), settings.check_state_refresh_s)
    eod = EodStore(settings.db_schema)
    perps = PerpConfig(
        settings.perp_contract_sizes,
        settings.perp_maintenance_margin_rates,
        settings.maintenance_brackets(),
    )
    metrics = RiskMetrics(runtime.registry)
    owners = Owners(engine, client, positions, settings.order_router_timeout_s)
    flatten_results = FlattenResults(engine, settings.db_schema, owners)
    book = OptionQuoteBook(
        client,
        timeout_s=settings.market_data_timeout_s,
        refresh_s=settings.option_quotes_refresh_s,
        max_age_s=settings.option_quotes_max_age_s,
    )
    greek_alerts = GreekAlerts(
        engine, settings.db_schema, cache=cache, store=store, outbox=runtime.outbox, metrics=metrics
    )
    book.sources.append(greek_alerts.held_underlyings)
    book.listeners.append(greek_alerts.on_quotes)
    api.register(
        runtime,
        check=PreTradeCheck(
            engine,
            cache,
            positions,
            pending,
            perps,
            state=state,
            metrics=metrics,
            options=OptionGreeksCheck(book),
        ),
        positions=PositionsApi(engine, positions, cache, owners, perps),
        limits=LimitsApi(engine, store, cache, owners),
        halts=HaltsApi(
            engine, store, cache, runtime.outbox, owners=owners, positions=positions, metrics=metrics
        ),
        history=HistoryApi(engine, eod, store, owners),
        perps=PerpsApi(engine, PerpsStore(settings.db_schema), owners, perps),
        flattens=flatten_results,
        var=VarApi(engine, positions, cache, owners, client=client, timeout_s=settings.candles_timeout_s),
    )
    alerter = Alerter(cache, positions, store, runtime.outbox, metrics)
    runtime.add_batch_consumer(  # a fetched batch in one transaction; memory follows the commit
        consumer_spec("risk_monitor_orders"),
        in_turn(
            flatten_results.around(
                OrderEvents(positions, alerter, pending, perps, runtime.outbox, state=state).on_event
            )
        ),
    )
    bot_alerts = BotAlerts(settings.db_schema, store, runtime.outbox, metrics)
    runtime.add_consumer(consumer_spec("risk_monitor_bots"), bot_alerts.on_status)
    margin_alerts = MarginAlerts(
        cache,
        positions,
        store,
        runtime.outbox,
        perps,
        alert_ratio=settings.margin_alert_ratio,
        metrics=metrics,
    )
    marks = Marks(engine, positions, alerter, settings.mark_interval_s, margin_alerts, state=state)
    runtime.add_batch_consumer(
        consumer_spec("risk_monitor_marks"), marks.on_batch, gather_s=settings.marks_gather_s
    )
    runtime.add_task(marks.run)
    runtime.add_task(book.run)
    runtime.add_task(cache.run)
    runtime.add_task(state.run)
    runtime.add_task(EodRoller(engine, cache, eod, settings.eod_interval_s, state=state).run)
    return runtime


def build_process(settings: ServiceSettings) -> ServiceRuntime:
    """``build`` for the service's own process: its heap is also frozen after start-up (``heap.py``)."""
    runtime = build(settings)
    runtime.add_task(freeze_heap)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=RiskMonitorSettings,
        build=build_process,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
