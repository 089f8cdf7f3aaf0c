"""Which venues order-router can trade on: the exchanges ccxt itself says support the needed calls."""

from __future__ import annotations

import functools

import ccxt.async_support as ccxt

REQUIRED_CAPABILITIES = ("createOrder", "cancelOrder", "fetchOpenOrders", "fetchMyTrades", "fetchBalance")


def has_required(has: dict[str, object]) -> bool:
    """ccxt marks capabilities True, "emulated", False or None; emulated counts as supported."""
    return all(has.get(name) not in (None, False) for name in REQUIRED_CAPABILITIES)


@functools.cache
def supported_venues() -> tuple[str, ...]:
    """Sorted ccxt exchange ids whose ``has`` includes every required capability.

    Computed once per process from ccxt's class metadata (no network: ``has`` is static)."""
    supported = []
    for exchange_id in ccxt.exchanges:
        exchange_class = getattr(ccxt, exchange_id, None)
        if exchange_class is None:
            continue
        # an async exchange opens no session until its first request: nothing to close here
        if has_required(exchange_class().has):
            supported.append(exchange_id)
    return tuple(sorted(supported))


@functools.cache
def is_supported(exchange_id: str) -> bool:
    """One exchange's check (cheap: it does not build every exchange like ``supported_venues``)."""
    if exchange_id not in ccxt.exchanges:
        return False
    return has_required(getattr(ccxt, exchange_id)().has)
