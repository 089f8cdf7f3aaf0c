"""Wiring: the one place gateway-auth builds its concrete objects."""

from tradeloom.gateway_auth import SERVICE, __version__, api
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.settings import GatewayAuthSettings
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with gateway-auth's operations and public HTTP API registered, not yet started."""
    if not isinstance(settings, GatewayAuthSettings):
        raise TypeError("gateway-auth needs GatewayAuthSettings")
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    http_app = create_http_app(lambda: runtime.client, settings.status_timeout_s)
    runtime.add_http_app(http_app, settings.http_host, settings.http_port, "http_port")
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=GatewayAuthSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
