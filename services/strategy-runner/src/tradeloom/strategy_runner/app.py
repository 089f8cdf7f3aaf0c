"""Wiring: the one place strategy-runner builds its concrete objects."""

from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.strategy_runner import SERVICE, __version__, api
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with strategy-runner's operations registered, not yet started."""
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=StrategyRunnerSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
