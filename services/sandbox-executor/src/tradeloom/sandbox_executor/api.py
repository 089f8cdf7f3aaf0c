"""Request/reply operations of sandbox-executor (``svc.sandbox-executor.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the sandbox-executor issue adds its operations here
