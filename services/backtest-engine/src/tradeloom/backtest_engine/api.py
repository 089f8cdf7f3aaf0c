"""Request/reply operations of backtest-engine (``svc.backtest-engine.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the backtest-engine issue adds its operations here
