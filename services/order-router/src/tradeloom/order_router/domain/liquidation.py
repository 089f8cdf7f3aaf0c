"""When and at what price the paper exchange liquidates a perp position (pure).

A position's collateral is its own margin (``perp_positions.margin``: what its opening fills took,
less any funding drawn from it), so each position is liquidated on its own (isolated). Its
liquidation price is where margin + unrealised PnL equals the tiered maintenance margin
(``tradeloom.quant.margin``, the same function risk-monitor shows). A market price at or beyond it
(a long: ≤, a short: ≥) liquidates it.

**The close is at the liquidation price, not at the crossing price (mark) nor at the bankruptcy
price.** The mark may have jumped far past it (the synthetic market gaps, a real venue's trade
feed too): closing there could lose more than the margin and leave a negative balance. At the
bankruptcy price (equity 0) nothing would be left for the liquidation fee. At the liquidation
price the equity left equals the maintenance margin, which becomes the liquidation fee (Binance
sends it to its insurance fund): the account loses exactly the position's margin, nothing more,
and the figures do not depend on how far the price overshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.order_router.domain.perps import ZERO, PerpPosition, money
from tradeloom.quant.margin import Bracket, liquidation_price


def position_liquidation_price(
    position: PerpPosition, contract_size: Decimal, brackets: Sequence[Bracket]
) -> Decimal | None:
    """On the balances' scale; None when flat; 0 when no positive price liquidates it."""
    price = liquidation_price(
        position.quantity * contract_size, position.entry_price, position.margin, brackets
    )
    return None if price is None else money(price)


def crossed(position: PerpPosition, price: Decimal | None, low: Decimal, high: Decimal) -> bool:
    """Whether prices between ``low`` and ``high`` reach the liquidation ``price``."""
    if price is None or position.quantity == 0:
        return False
    if position.quantity > 0:
        return price > 0 and low <= price
    return high >= price


@dataclass(frozen=True)
class Liquidation:
    price: Decimal
    realised_pnl: Decimal
    fee: Decimal

    def free_change(self, margin: Decimal) -> Decimal:
        """What the settle asset's free balance gains: the margin back, the PnL and the fee
        (0 whenever the equity at the price was not negative)."""
        return margin + self.realised_pnl - self.fee


def liquidate(position: PerpPosition, contract_size: Decimal, price: Decimal) -> Liquidation:
    """Close ``position`` at ``price``: its PnL, and the fee = the equity left (never below 0)."""
    pnl = money(position.quantity * contract_size * (price - position.entry_price))
    return Liquidation(price, pnl, max(position.margin + pnl, ZERO))
