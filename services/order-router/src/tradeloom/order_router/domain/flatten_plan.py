"""What a flatten does with one position: the close order, and what it must leave (dust).

Pure rules, one position at a time (``flatten.Flattener`` gathers the positions and stores the
orders):

- **spot long** (the fill fold > 0): a market sell of the fold, at most the free base, in whole lots;
- **spot short** (the fold < 0: more sold than bought, out of a starting base balance): a market
  buy back of the fold, in whole lots;
- **linear perpetual**, either side: a reduce-only market order against the position;
- **long option**: a sell of the options held at the bid (no bid: left, ``no_option_quote``).
  A short option cannot exist on paper (``option_short_refused`` at submit).

What cannot be sent is reported, never dropped in silence nor sent to fail:
``below_min_quantity`` (less than one lot), ``below_min_notional`` (a spot close under the venue's
minimum notional: spot has no reduce-only order, and a venue applies its notional filter to a
market sell too, as Binance's ``NOTIONAL`` filter does), ``no_market_price`` (a buy back or a perp
close with no trade seen to price its lock). A perpetual's or an option's close of the whole
position is allowed under the minimum notional: it is reduce-only, and the paper venue does what
Binance futures do for a reduce-only market close (the ``MIN_NOTIONAL`` filter is waived).
A remainder after the close is reported too: under one lot (``below_min_quantity``), or base or
options held but not free (``not_free``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Kind = Literal["spot", "perp", "option"]


@dataclass(frozen=True)
class Holding:
    """One position of the account. ``quantity``: signed (> 0 long, < 0 short): the spot fill
    fold, the perp position in contracts, the options held. ``free``: what a sell may take (the
    free base or options). ``price``: the last trade (spot, perp) or the bid (option)."""

    symbol: str
    kind: Kind
    quantity: Decimal
    lot: Decimal
    free: Decimal = Decimal(0)
    price: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    min_notional: Decimal | None = None


@dataclass(frozen=True)
class Close:
    side: Literal["buy", "sell"]
    quantity: Decimal
    reduce_only: bool


@dataclass(frozen=True)
class Plan:
    """The close order (``None``: none sent) and the quantity left open, with why."""

    symbol: str
    close: Close | None
    left: Decimal = Decimal(0)
    reason: str | None = None


def whole_lots(quantity: Decimal, lot: Decimal) -> Decimal:
    return (quantity // lot) * lot if quantity > 0 else Decimal(0)


def _unsendable(h: Holding, quantity: Decimal, side: str) -> str | None:
    """Why no close of ``quantity`` can be sent (``None``: it can)."""
    if quantity <= 0:
        return "below_min_quantity"
    if h.kind == "option" and h.price is None:
        return "no_option_quote"
    if h.price is None and (side == "buy" or h.kind == "perp"):
        return "no_market_price"
    notional = quantity * h.price * h.contract_size if h.price is not None else None
    if h.kind == "spot" and notional is not None and h.min_notional is not None and notional < h.min_notional:
        return "below_min_notional"
    return None


def plan_close(holding: Holding) -> Plan | None:
    """The close of ``holding`` (``None``: nothing held, or a position a flatten cannot touch)."""
    h = holding
    if h.quantity == 0 or (h.kind == "option" and h.quantity < 0):
        return None
    size = abs(h.quantity)
    if h.quantity > 0 and h.kind != "perp":  # a sell takes what is free only
        size = min(size, max(h.free, Decimal(0)))
    quantity = whole_lots(size, h.lot)
    side: Literal["buy", "sell"] = "sell" if h.quantity > 0 else "buy"
    reason = _unsendable(h, quantity, side)
    if reason is not None:
        return Plan(h.symbol, None, abs(h.quantity), reason)
    left = abs(h.quantity) - quantity
    close = Close(side, quantity, reduce_only=h.kind != "spot" or side == "sell")
    if left <= 0:
        return Plan(h.symbol, close)
    return Plan(h.symbol, close, left, "below_min_quantity" if left < h.lot else "not_free")
