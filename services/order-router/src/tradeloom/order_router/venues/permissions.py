"""Reading an API key's permissions (read/trade/withdraw) where the venue, through ccxt, tells.

ccxt has no unified call for this, so known venues get their own reader; every other venue is
"read" (its authenticated balance call works) with trade and withdraw unknown (``None``)."""

from __future__ import annotations

from typing import Any

from tradeloom.order_router.venues.models import Permissions


async def _binance(exchange: Any) -> Permissions:
    # GET /sapi/v1/account/apiRestrictions: what the key itself is allowed (not only the account)
    answer = await exchange.sapi_get_account_apirestrictions()
    return Permissions(
        read=bool(answer.get("enableReading")),
        trade=bool(answer.get("enableSpotAndMarginTrading")),
        withdraw=bool(answer.get("enableWithdrawals")),
    )


_READERS = {"binance": _binance}


async def read_permissions(exchange: Any) -> Permissions:
    """Permissions of the exchange's key; raises ccxt errors (the caller maps them)."""
    reader = _READERS.get(exchange.id)
    if reader is not None:
        return await reader(exchange)
    await exchange.fetch_balance()
    return Permissions(read=True, trade=None, withdraw=None)
