"""Wiring: the one place strategy-runner builds its concrete objects."""

from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import consumer_spec
from tradeloom.shared.user_code import SandboxLimits
from tradeloom.strategy_runner import SERVICE, __version__, api, api_builder
from tradeloom.strategy_runner.api_strategies import StrategiesApi
from tradeloom.strategy_runner.bots import api_bot_config, api_dca_bots, api_grid_bots
from tradeloom.strategy_runner.bots.api_bot_views import BotViewsApi
from tradeloom.strategy_runner.bots.api_bots import BotsApi
from tradeloom.strategy_runner.bots.api_dca_bots import DcaBotsApi
from tradeloom.strategy_runner.bots.api_grid_bots import GridBotsApi
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient
from tradeloom.strategy_runner.bots.bot_states import BotStates
from tradeloom.strategy_runner.bots.ledger_events import BotLedgerEvents
from tradeloom.strategy_runner.bots.limit_removals import LimitRemovals
from tradeloom.strategy_runner.bots.order_cancels import OrderCancels
from tradeloom.strategy_runner.bots.runner import BotRunner, RunnerConfig
from tradeloom.strategy_runner.catalogs.api_catalogs import CatalogsApi
from tradeloom.strategy_runner.catalogs.api_user_indicators import UserIndicatorsApi
from tradeloom.strategy_runner.catalogs.bars import BarsSource
from tradeloom.strategy_runner.catalogs.user_indicator_runs import UserIndicatorRuns
from tradeloom.strategy_runner.jobs.api_jobs import JobsApi
from tradeloom.strategy_runner.schedules.actions import ActionTimeouts, ScheduleActions
from tradeloom.strategy_runner.schedules.api_schedules import SchedulesApi
from tradeloom.strategy_runner.schedules.scheduler import Scheduler
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with strategy-runner's operations, consumers and bot loop, not yet started."""
    if not isinstance(settings, StrategyRunnerSettings):
        raise TypeError("strategy-runner needs StrategyRunnerSettings")
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    engine = lambda: runtime.engine  # noqa: E731
    client = lambda: runtime.client  # noqa: E731
    outbox = lambda: runtime.outbox  # noqa: E731
    schema = settings.db_schema
    sandbox = SandboxLimits(settings.sandbox_time_limit_s, settings.sandbox_memory_mb)
    indicator_runs = UserIndicatorRuns(client, sandbox)
    strategies = StrategiesApi(engine, schema, settings.max_versions_per_strategy, indicator_runs)
    user_indicators = UserIndicatorsApi(engine, schema, settings.max_versions_per_strategy)
    catalogs = CatalogsApi(
        BarsSource(client, settings.market_data_timeout_s), user_indicators, indicator_runs
    )
    risk_limits = BotRiskLimitsClient(client, settings.risk_monitor_timeout_s, engine, schema)
    bots = BotsApi(
        engine, client, outbox, schema, risk_limits, market_data_timeout_s=settings.market_data_timeout_s
    )
    views = BotViewsApi(engine, client, schema, settings.market_data_timeout_s)
    api.register(
        runtime, strategies=strategies, bots=bots, views=views, catalogs=catalogs,
        schedules=SchedulesApi(engine, client, schema),
        jobs=JobsApi(engine, client, schema, settings.backtest_timeout_s), user_indicators=user_indicators,
    )  # fmt: skip
    timeouts = ActionTimeouts(
        backtest_s=settings.backtest_timeout_s, import_wait_s=settings.schedule_import_wait_s,
        analytics_s=settings.analytics_timeout_s, market_data_s=settings.market_data_timeout_s,
    )  # fmt: skip
    scheduler = Scheduler(
        engine, ScheduleActions(client, bots, timeouts), schema=schema, owner=runtime.instance_id,
        tick_s=settings.schedule_tick_s, grace_s=settings.schedule_grace_s,
        stale_s=settings.schedule_stale_s, max_attempts=settings.schedule_max_attempts,
    )  # fmt: skip
    api_builder.register(runtime, api_builder.BuilderApi(engine, strategies))
    grid_bots = GridBotsApi(
        engine, client, outbox, schema, settings.market_data_timeout_s, risk_limits=risk_limits
    )
    api_grid_bots.register(runtime, grid_bots)
    dca_bots = DcaBotsApi(
        engine, client, outbox, schema, settings.market_data_timeout_s, risk_limits=risk_limits
    )
    api_dca_bots.register(runtime, dca_bots)
    bot_config = api_bot_config.BotConfigApi(
        engine, schema, client, risk_limits=risk_limits, market_data_timeout_s=settings.market_data_timeout_s
    )
    api_bot_config.register(runtime, bot_config)
    runner = BotRunner(
        engine,
        client,
        outbox,
        schema=schema,
        owner=runtime.instance_id,
        config=RunnerConfig(
            lease_ttl_s=settings.bot_lease_ttl_s,
            tick_s=settings.bot_tick_s,
            history_bars=settings.bot_history_bars,
            market_data_timeout_s=settings.market_data_timeout_s,
            order_timeout_s=settings.order_timeout_s,
            sandbox=sandbox,
        ),
    )
    ledger_events = BotLedgerEvents(schema, outbox)
    runtime.add_consumer(consumer_spec("strategy_runner_candles"), runner.on_candle)
    # a fetched batch of order updates in one transaction (a candle's burst: ~3 per bot order)
    runtime.add_batch_consumer(consumer_spec("strategy_runner_orders"), ledger_events.on_orders)
    runtime.add_consumer(consumer_spec("strategy_runner_halts"), ledger_events.on_risk)
    runtime.add_task(runner.run)
    cancels = OrderCancels(
        engine, client, schema=schema, owner=runtime.instance_id, tick_s=settings.bot_tick_s,
        timeout_s=settings.order_timeout_s,
    )  # fmt: skip
    runtime.add_task(cancels.run)
    runtime.add_task(catalogs.warm_up)
    runtime.add_task(scheduler.run)
    runtime.add_task(LimitRemovals(engine, risk_limits, settings.risk_limits_sweep_s).run)
    runtime.add_task(BotStates(engine, schema, runtime.registry, settings.bot_states_interval_s).run)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=StrategyRunnerSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
