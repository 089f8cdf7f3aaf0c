"""Paper linear perpetuals in Decimal: the margin an order locks, and what a fill does to a position.

A position is signed (contracts; > 0 long, < 0 short) with its average entry price and the margin
it holds in the settle asset. Shorts need no borrowing: both sides lock margin (notional / leverage)
in the settle asset, never the base. A fill first reduces an opposite position (its realised PnL and
the matching share of the position's margin go back to the free settle balance), and any rest opens
or grows the position at the weighted average entry (its margin comes out of the order's lock).
Notional = contracts × price × contract size (``Instrument.multiplier``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from tradeloom.order_router.domain.funds import AccountCosts, required_lock
from tradeloom.shared.contracts.orders import OrderSubmit

ZERO = Decimal(0)
MONEY = Decimal("1e-18")  # the balances' scale (numeric(38, 18)): every amount moved is on it


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY)


def lock_share(locked: Decimal, quantity: Decimal, remaining: Decimal) -> Decimal:
    """The part of an order's lock a fill of ``quantity`` spends: pro rata, rounded down to the
    balances' scale, and all that is left on the last fill (so the lock ends at exactly 0)."""
    if quantity >= remaining:
        return locked
    return (locked * quantity / remaining).quantize(MONEY, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class PerpPosition:
    """One account's position in one perp symbol (one-way mode), or one side of it (hedge mode:
    the long ≥ 0, the short ≤ 0)."""

    quantity: Decimal = ZERO
    entry_price: Decimal = ZERO
    margin: Decimal = ZERO

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0


@dataclass(frozen=True)
class PerpFill:
    """The outcome of one fill: the new position, the realised PnL of its closing part, the
    position margin released (to free) and the margin the opening part took (from the order lock)."""

    position: PerpPosition
    realised_pnl: Decimal
    margin_released: Decimal
    margin_added: Decimal


def initial_margin(quantity: Decimal, price: Decimal, contract_size: Decimal, leverage: Decimal) -> Decimal:
    """Notional / leverage."""
    return quantity * price * contract_size / leverage


def order_lock(
    quantity: Decimal, price: Decimal, contract_size: Decimal, leverage: Decimal, fee_rate: Decimal
) -> Decimal:
    """What an order locks while open, in the settle asset: its initial margin at ``price`` (the
    limit price, or the market reference with its buffer) plus the highest fee it can pay."""
    notional = quantity * price * contract_size
    return money(notional / leverage + notional * fee_rate)


def signed(side: str, quantity: Decimal) -> Decimal:
    return quantity if side == "buy" else -quantity


def closing_quantity(position: PerpPosition, side: str, quantity: Decimal) -> Decimal:
    """How much of an order on ``side`` reduces ``position`` (0 when it is on the same side)."""
    if position.quantity == 0 or (position.quantity > 0) == (side == "buy"):
        return ZERO
    return min(quantity, abs(position.quantity))


def apply_fill(
    position: PerpPosition,
    side: str,
    quantity: Decimal,
    price: Decimal,
    *,
    contract_size: Decimal,
    leverage: Decimal,
) -> PerpFill:
    """The position after a fill of ``quantity`` contracts at ``price`` on ``side``."""
    closed = closing_quantity(position, side, quantity)
    pnl = ZERO
    released = ZERO
    qty, entry, margin = position.quantity, position.entry_price, position.margin
    if closed > 0:
        direction = Decimal(1) if qty > 0 else Decimal(-1)
        pnl = money(closed * (price - entry) * contract_size * direction)
        released = margin if closed == abs(qty) else money(margin * closed / abs(qty))
        qty -= direction * closed
        margin -= released
        if qty == 0:
            entry, margin = ZERO, ZERO
    opened = quantity - closed
    added = ZERO
    if opened > 0:
        added = money(initial_margin(opened, price, contract_size, leverage))
        new_qty = qty + signed(side, opened)
        entry = (abs(qty) * entry + opened * price) / abs(new_qty)
        qty = new_qty
        margin += added
    return PerpFill(PerpPosition(qty, entry, margin), pnl, released, added)


def reduce_only_quantity(position: PerpPosition, side: str, quantity: Decimal) -> Decimal:
    """A reduce-only order may only shrink the position: its quantity capped at the position's
    size on the opposite side (0: nothing to reduce)."""
    return closing_quantity(position, side, quantity)


@dataclass(frozen=True)
class PerpTerms:
    """What an order on a perpetual needs besides the instrument: its contract size (the
    registry's ``multiplier``), the account's leverage for the symbol, the settle asset and the
    account's position in it when the order is submitted."""

    contract_size: Decimal
    leverage: Decimal
    settle: str
    position: PerpPosition = PerpPosition()
    margin_mode: str = "cross"
    position_mode: str = "one_way"

    def lock(
        self, order: OrderSubmit, last_price: Decimal | None, costs: AccountCosts, buffer: Decimal
    ) -> Decimal:
        """The order's lock in the settle asset, priced like a spot buy (its limit price, else the
        buffered market reference after slippage), for either side: a short locks margin too. The
        part that closes the current position locks only its fee (closing frees margin), so a
        fully margined account can always close."""
        no_fee = AccountCosts(Decimal(0), Decimal(0), costs.slippage_model, costs.slippage)
        as_buy = order.model_copy(update={"side": "buy"})
        worst_notional = required_lock(as_buy, last_price, no_fee, buffer) * self.contract_size
        opening = order.quantity - closing_quantity(self.position, order.side, order.quantity)
        rate = max(costs.maker_rate, costs.taker_rate)
        return money(worst_notional * opening / order.quantity / self.leverage + worst_notional * rate)


def funding_payment(quantity: Decimal, mark_price: Decimal, contract_size: Decimal, rate: Decimal) -> Decimal:
    """What a position receives (> 0) or pays (< 0) at one funding time: a long pays
    ``notional at the mark × rate`` when the rate is positive, a short receives it."""
    return money(-quantity * mark_price * contract_size * rate)
