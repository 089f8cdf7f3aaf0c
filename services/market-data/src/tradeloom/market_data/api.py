"""Request/reply operations of market-data (``svc.market-data.<op>``); ping is built in."""

from tradeloom.shared.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Add this service's operations and consumers to the runtime."""
    del runtime  # the market-data issue adds candles, trades, books and datasets here
