"""Wiring: the one place market-data builds its concrete objects."""

from tradeloom.market_data import SERVICE, __version__, api
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with market-data's operations registered, not yet started."""
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=MarketDataSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
