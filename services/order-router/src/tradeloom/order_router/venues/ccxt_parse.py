"""ccxt's unified order/trade/balance dictionaries → our dataclasses (Decimal amounts).

ccxt hands numbers over as floats built from the venue's decimal strings; ``Decimal(str(x))`` gives
back the shortest decimal that float came from, which is the venue's value for every price and
amount with at most 15 significant digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeloom.order_router.venues.models import Balance, Side, VenueFill, VenueOrder


def dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def dec0(value: Any) -> Decimal:
    return dec(value) or Decimal(0)


def _side(value: Any) -> Side:
    return "sell" if str(value).lower() == "sell" else "buy"


def our_status(ccxt_status: str | None, filled: Decimal) -> str:
    """ccxt's open/closed/canceled/expired/rejected → our order states."""
    if ccxt_status in (None, "open"):
        return "partially_filled" if filled > 0 else "new"
    return {"closed": "filled", "canceled": "canceled", "cancelled": "canceled"}.get(ccxt_status, ccxt_status)


def parse_order(raw: dict[str, Any]) -> VenueOrder:
    filled = dec0(raw.get("filled"))
    return VenueOrder(
        venue_order_id=str(raw["id"]),
        client_order_id=raw.get("clientOrderId"),
        symbol=str(raw.get("symbol")),
        side=_side(raw.get("side")),
        kind=str(raw.get("type") or ""),
        status=our_status(raw.get("status"), filled),
        quantity=dec0(raw.get("amount")),
        filled=filled,
        price=dec(raw.get("price")) or None,
        average_price=dec(raw.get("average")),
        timestamp_ms=raw.get("timestamp"),
        trigger_price=dec(raw.get("triggerPrice")),
    )


def parse_fill(raw: dict[str, Any]) -> VenueFill:
    fee = raw.get("fee") or {}
    maker = raw.get("takerOrMaker")
    return VenueFill(
        venue_fill_id=str(raw["id"]),
        venue_order_id=str(raw.get("order")),
        symbol=str(raw.get("symbol")),
        side=_side(raw.get("side")),
        price=dec0(raw.get("price")),
        quantity=dec0(raw.get("amount")),
        fee=dec0(fee.get("cost")),
        fee_asset=fee.get("currency"),
        timestamp_ms=int(raw.get("timestamp") or 0),
        is_maker=None if maker is None else maker == "maker",
    )


def parse_balances(raw: dict[str, Any]) -> list[Balance]:
    """Assets with a non-zero total, sorted by asset."""
    result = []
    for asset, total in sorted((raw.get("total") or {}).items()):
        total_dec = dec0(total)
        if total_dec == 0:
            continue
        free = dec0((raw.get("free") or {}).get(asset))
        used = dec0((raw.get("used") or {}).get(asset))
        result.append(Balance(asset=asset, free=free, locked=used, total=total_dec))
    return result
