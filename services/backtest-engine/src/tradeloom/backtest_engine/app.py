"""Wiring: the one place backtest-engine builds its concrete objects."""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.backtest_engine import SERVICE, __version__, api
from tradeloom.backtest_engine.adapters.candle_cache import CandleCache
from tradeloom.backtest_engine.api_optimisations import OptimisationsApi
from tradeloom.backtest_engine.api_results import ResultsApi
from tradeloom.backtest_engine.api_runs import RunsApi
from tradeloom.backtest_engine.run_metrics import RunMetrics
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.backtest_engine.sweeper import RunSweeper
from tradeloom.backtest_engine.worker import RUNS_CONSUMER, BacktestWorker
from tradeloom.quant.memory import heap_reuse_once
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import ConsumerSpec


@dataclass(frozen=True)
class Parts:
    runtime: ServiceRuntime
    runs: RunsApi
    results: ResultsApi
    worker: BacktestWorker
    sweeper: RunSweeper


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with backtest-engine's operations registered, not yet started."""
    return build_parts(settings).runtime


def build_parts(settings: ServiceSettings, runs_consumer: ConsumerSpec = RUNS_CONSUMER) -> Parts:
    """The runtime and the objects behind it (tests reach the worker's fault hook through this)."""
    if not isinstance(settings, BacktestEngineSettings):
        raise TypeError("backtest-engine needs BacktestEngineSettings")
    heap_reuse_once()  # at start, before the first run (the library would do it at that run)
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    source = f"tradeloom/{SERVICE}"
    runs = RunsApi(
        lambda: runtime.engine, settings.db_schema, runtime.outbox, runtime.subjects, source,
        lambda: runtime.client,
    )  # fmt: skip
    results = ResultsApi(
        lambda: runtime.engine,
        lambda: runtime.js,
        settings.db_schema,
        runtime.subjects,
        settings.export_ttl_s,
    )
    cache = CandleCache(settings.candle_cache_pages, settings.candle_cache_ttl_s)
    worker = BacktestWorker(
        lambda: runtime.engine,
        lambda: runtime.client,
        runtime.outbox,
        settings,
        spec=runs_consumer,
        candle_cache=cache,
    )
    worker.metrics = RunMetrics(runtime.registry)
    optimisations = OptimisationsApi(lambda: runtime.engine, settings.db_schema)
    api.register(runtime, runs, results, optimisations, worker)
    sweeper = RunSweeper(
        lambda: runtime.engine,
        lambda: runtime.js,
        subjects=runtime.subjects,
        outbox=runtime.outbox,
        settings=settings,
        spec=runs_consumer,
    )
    runtime.add_task(sweeper.sweep_stale_runs)
    return Parts(runtime, runs, results, worker, sweeper)


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=BacktestEngineSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
