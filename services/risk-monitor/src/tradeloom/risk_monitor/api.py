"""Request/reply operations of risk-monitor (``svc.risk-monitor.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the risk-monitor issue adds its operations here
