"""Wiring: the one place risk-monitor builds its concrete objects."""

from tradeloom.risk_monitor import SERVICE, __version__, api
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with risk-monitor's operations registered, not yet started."""
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=RiskMonitorSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
