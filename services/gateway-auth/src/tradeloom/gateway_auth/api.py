"""Request/reply operations of gateway-auth (``svc.gateway-auth.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the gateway-auth issue adds its operations here
