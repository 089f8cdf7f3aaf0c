"""Wiring: the one place strategy-runner builds its concrete objects."""

from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.strategy_runner import SERVICE, __version__, api
from tradeloom.strategy_runner.api_strategies import StrategiesApi
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with strategy-runner's operations registered, not yet started."""
    if not isinstance(settings, StrategyRunnerSettings):
        raise TypeError("strategy-runner needs StrategyRunnerSettings")
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    strategies = StrategiesApi(lambda: runtime.engine, settings.db_schema, settings.max_versions_per_strategy)
    api.register(runtime, strategies)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=StrategyRunnerSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
