"""Request/reply operations of strategy-runner (``svc.strategy-runner.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the strategy-runner issue adds its operations here
