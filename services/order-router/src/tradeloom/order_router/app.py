"""Wiring: the one place order-router builds its concrete objects."""

from tradeloom.order_router import SERVICE, __version__, api
from tradeloom.order_router.api_accounts import AccountsApi
from tradeloom.order_router.api_connections import ConnectionsApi
from tradeloom.order_router.api_orders import OrdersApi
from tradeloom.order_router.execution import PaperExecution
from tradeloom.order_router.flatten import Flattener
from tradeloom.order_router.inbox_pruning import InboxPruner
from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.order_router.key_rotation import KeyRotation
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.metrics import OrderMetrics
from tradeloom.order_router.option_orders import OptionQuotes
from tradeloom.order_router.orders_batch import BatchSubmitter
from tradeloom.order_router.orders_submit import OrderSubmitter
from tradeloom.order_router.paper import HaltKeeper, Housekeeping, PaperMatcher
from tradeloom.order_router.perp_funding import PerpFunding
from tradeloom.order_router.perp_liquidation import PerpLiquidator
from tradeloom.order_router.perp_orders import PerpSettingsSource
from tradeloom.order_router.price_bands import PriceBands
from tradeloom.order_router.queue_position import QueuePosition
from tradeloom.order_router.risk_gate import RiskGate
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.order_router.store.connections_store import SqlCredentialStore
from tradeloom.order_router.venue_access import VenueAccess
from tradeloom.order_router.venue_flatten import VenueFlatten
from tradeloom.order_router.venue_orders import RoutedExecution, VenueOrders
from tradeloom.order_router.venue_sync import VenueSync
from tradeloom.order_router.venue_wallets import VenueWallets
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import consumer_spec


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with order-router's operations and consumers registered, not yet started."""
    assert isinstance(settings, OrderRouterSettings)
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    metrics = OrderMetrics(runtime.registry)
    ledger = Ledger(settings.db_schema, runtime.outbox, metrics)
    client = lambda: runtime.client  # noqa: E731
    engine = lambda: runtime.engine  # noqa: E731
    keyring = settings.keyring()
    access = VenueAccess(
        keyring,
        timeout_s=settings.venue_timeout_s,
        api_urls=settings.venue_api_urls,
        options=settings.venue_options,
    )
    venue_orders = VenueOrders(engine, ledger, settings.db_schema, access)
    execution = RoutedExecution(PaperExecution(), venue_orders, ledger)
    instruments = InstrumentDirectory(
        client, ttl_s=settings.instruments_ttl_s, timeout_s=settings.market_data_timeout_s
    )
    options = OptionQuotes(client, timeout_s=settings.market_data_timeout_s)
    flattener = Flattener(
        ledger, market_buffer=settings.market_buy_buffer, instruments=instruments, options=options
    )
    bands = PriceBands(instruments, settings.price_bands)
    submitter = OrderSubmitter(
        engine=engine,
        ledger=ledger,
        instruments=instruments,
        risk=RiskGate(client, settings.risk_check_timeout_s),
        execution=execution,
        market_buffer=settings.market_buy_buffer,
        venue_orders=venue_orders,
        price_bands=bands,
        queue=QueuePosition(client, timeout_s=settings.market_data_timeout_s),
        perps=PerpSettingsSource(client, settings.perp_settings_timeout_s),
        metrics=metrics,
        options=options,
    )
    wallets = VenueWallets(settings.venue_wallets_interval_s)
    api.register(
        runtime,
        AccountsApi(engine, ledger, wallets),
        OrdersApi(engine, ledger, execution, settings.market_buy_buffer, bands),
        submitter,
        ConnectionsApi(engine, settings.db_schema, access),
        batches=BatchSubmitter(submitter, engine),
    )
    if keyring is not None:
        rotation = KeyRotation(
            keyring,
            SqlCredentialStore(engine, settings.db_schema),
            interval_s=settings.credential_rotation_interval_s,
        )
        runtime.add_task(rotation.run)
        sync = VenueSync(
            engine,
            ledger,
            venue_orders,
            interval_s=settings.venue_poll_interval_s,
            pending_grace_s=2 * settings.venue_timeout_s + settings.risk_check_timeout_s,
            flattens=VenueFlatten(engine, ledger, venue_orders, flattener),
            fill_streams=settings.venue_fill_streams,
            wallets=wallets,
        )
        runtime.add_task(sync.run)
    matcher = PaperMatcher(
        ledger,
        settings.db_schema,
        PerpLiquidator(ledger, settings.db_schema, settings.maintenance_brackets()),
    )
    runtime.add_batch_consumer(
        consumer_spec("order_router_paper"), matcher.on_trades, probe=matcher.without_orders
    )
    runtime.add_consumer(consumer_spec("order_router_halts"), HaltKeeper(ledger, flattener).on_event)
    housekeeping = Housekeeping(
        engine,
        ledger,
        interval_s=settings.housekeeping_interval_s,
        pending_timeout_s=settings.pending_new_timeout_s,
    )
    runtime.add_task(housekeeping.run)
    funding = PerpFunding(
        engine,
        settings.db_schema,
        client,
        ledger.outbox,
        interval_s=settings.perp_funding_interval_s,
        timeout_s=settings.market_data_timeout_s,
    )
    runtime.add_task(funding.run)
    pruner = InboxPruner(
        engine,
        settings.db_schema,
        retention_s=settings.inbox_retention_s,
        interval_s=settings.inbox_prune_interval_s,
    )
    runtime.add_task(pruner.run)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=OrderRouterSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
