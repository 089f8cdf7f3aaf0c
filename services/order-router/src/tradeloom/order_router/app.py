"""Wiring: the one place order-router builds its concrete objects."""

from tradeloom.order_router import SERVICE, __version__, api
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with order-router's operations registered, not yet started."""
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=OrderRouterSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
