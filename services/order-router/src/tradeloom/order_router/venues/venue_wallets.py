"""The venue's separate wallets, read through ccxt: spot, USDⓈ-M futures and options.

Binance keeps each market's money in its own wallet, and ccxt's ``fetchBalance`` reads one at a
time: the spot wallet by default, the futures wallet with ``type: swap`` (Binance
``/fapi/v3/account``: free = ``availableBalance``, locked = ``initialMargin``, total =
``marginBalance``). It has no options branch (``type: option`` falls through to spot), so the
options wallet is read with ccxt's implicit endpoint ``eapiPrivateGetMarginAccount`` (Binance
``/eapi/v1/marginAccount``: free = ``available``, total = ``marginBalance``, locked = the rest).
A wallet is read only when its markets are loaded (``VENUE_OPTIONS``' ``fetchMarkets`` types), so
a spot-only key is never asked for futures or options.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradeloom.order_router.venues.ccxt_parse import parse_balances
from tradeloom.order_router.venues.models import Balance

Call = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


@dataclass(frozen=True)
class Wallet:
    """``name``: ``spot``, ``futures`` or ``options``; the assets with a non-zero total."""

    name: str
    balances: list[Balance]


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def option_balances(raw: dict[str, Any]) -> list[Balance]:
    """Binance's options margin account (``asset``: one entry per margin asset), sorted by asset."""
    result = []
    for entry in sorted(raw.get("asset") or [], key=lambda item: str(item.get("asset"))):
        total, free = _dec(entry.get("marginBalance")), _dec(entry.get("available"))
        if total == 0:
            continue
        result.append(
            Balance(asset=str(entry["asset"]), free=free, locked=max(total - free, Decimal(0)), total=total)
        )
    return result


async def read_wallets(exchange: Any, call: Call) -> list[Wallet]:
    """Each wallet whose markets ``exchange`` (markets loaded) trades, through ``call`` (the
    adapter's deadline and error mapping)."""
    markets = list(exchange.markets.values())
    wallets = [Wallet("spot", parse_balances(await call(exchange.fetch_balance)))]
    if any(m.get("linear") and m.get("swap") for m in markets):
        futures = await call(lambda: exchange.fetch_balance({"type": "swap"}))
        wallets.append(Wallet("futures", parse_balances(futures)))
    if any(m.get("option") for m in markets) and hasattr(exchange, "eapiPrivateGetMarginAccount"):
        options = await call(exchange.eapiPrivateGetMarginAccount)
        wallets.append(Wallet("options", option_balances(options)))
    return wallets
