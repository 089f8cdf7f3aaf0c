"""Wiring: the one place sandbox-executor builds its concrete objects."""

from tradeloom.sandbox_executor import SERVICE, __version__, api
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with sandbox-executor's operations registered, not yet started."""
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=SandboxExecutorSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
