"""Liquidation prices of linear perpetuals, isolated and cross, with tiered maintenance margin.

A position of signed ``quantity`` (base units: contracts × contract size; > 0 long) entered at
``entry`` stands on some ``collateral`` in the settle asset. Its equity at price ``P`` is
``collateral + quantity × (P − entry)``; it is liquidated where that equity falls to the
maintenance margin ``|quantity| × P × rate − amount`` of the bracket holding ``|quantity| × P``.
Within one bracket that is linear in ``P``:

    P = (quantity × entry − collateral − amount) / (quantity − |quantity| × rate)

and since the maintenance margin is continuous and grows slower than the PnL (rate < 1), equity
minus maintenance margin is monotonic in ``P``: there is one such price. The bracket is the one
holding the notional at the liquidation price itself, found by the sign of equity − maintenance at
each cap. The result is exactly where equity == maintenance margin.

- **Isolated**: the collateral is the position's own margin (``|quantity| × entry / leverage`` when
  no exact figure is kept).
- **Cross**: the collateral is what the account puts behind this position: its settle-asset
  balance plus every other cross position's unrealised PnL at its mark, minus their maintenance
  margins (``cross_collateral``), Binance's formula with the others held at their marks.

Fees and funding to come are ignored. A long whose price would be ≤ 0 cannot be liquidated: 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.quant.margin.brackets import ZERO, Bracket, maintenance_margin


def equity_at(quantity: Decimal, entry: Decimal, collateral: Decimal, price: Decimal) -> Decimal:
    """The position's equity at ``price``: its collateral plus its unrealised PnL."""
    return collateral + quantity * (price - entry)


def _gap(quantity: Decimal, entry: Decimal, collateral: Decimal, price: Decimal, bracket: Bracket) -> Decimal:
    notional = abs(quantity) * price
    return equity_at(quantity, entry, collateral, price) - (notional * bracket.rate - bracket.amount)


def liquidation_price(
    quantity: Decimal, entry: Decimal, collateral: Decimal, brackets: Sequence[Bracket]
) -> Decimal | None:
    """The price at which the position's equity equals its maintenance margin (None when flat; 0
    when a long cannot be liquidated at any positive price)."""
    if quantity == 0:
        return None
    size = abs(quantity)
    chosen = brackets[-1]
    for bracket in brackets:
        if bracket.notional_cap is None:
            break
        gap = _gap(quantity, entry, collateral, bracket.notional_cap / size, bracket)
        # a long is safe above its liquidation price (gap rises), a short below it (gap falls)
        if (gap >= 0) if quantity > 0 else (gap <= 0):
            chosen = bracket
            break
    price = (quantity * entry - collateral - chosen.amount) / (quantity - size * chosen.rate)
    return max(price, ZERO)


@dataclass(frozen=True)
class CrossPosition:
    """One cross position of an account's settle asset, as the cross collateral needs it."""

    symbol: str
    quantity: Decimal  # base units, signed
    entry: Decimal
    mark: Decimal
    brackets: Sequence[Bracket]

    @property
    def unrealised(self) -> Decimal:
        return self.quantity * (self.mark - self.entry)

    @property
    def maintenance(self) -> Decimal:
        return maintenance_margin(abs(self.quantity) * self.mark, self.brackets)


def cross_collateral(balance: Decimal, position: CrossPosition, others: Iterable[CrossPosition]) -> Decimal:
    """What a cross account puts behind ``position``: its settle balance (wallet, without any
    unrealised PnL) plus the others' unrealised PnL minus their maintenance margins."""
    return balance + sum(
        (other.unrealised - other.maintenance for other in others if other is not position), ZERO
    )


def cross_liquidation_prices(
    balance: Decimal, positions: Sequence[CrossPosition]
) -> dict[str, Decimal | None]:
    """Each cross position's liquidation price, the others held at their marks."""
    return {
        p.symbol: liquidation_price(p.quantity, p.entry, cross_collateral(balance, p, positions), p.brackets)
        for p in positions
    }


@dataclass(frozen=True)
class CrossMargin:
    equity: Decimal  # balance + every position's unrealised PnL
    maintenance: Decimal  # the sum of the positions' maintenance margins
    ratio: Decimal | None  # maintenance / equity (None when equity ≤ 0: already liquidated)

    @property
    def liquidating(self) -> bool:
        """Equity below the total maintenance margin: every cross position is liquidated."""
        return self.equity < self.maintenance


def cross_margin(balance: Decimal, positions: Iterable[CrossPosition]) -> CrossMargin:
    """The cross account's equity, total maintenance margin and margin ratio at the marks."""
    items = list(positions)
    equity = balance + sum((p.unrealised for p in items), ZERO)
    maintenance = sum((p.maintenance for p in items), ZERO)
    return CrossMargin(equity, maintenance, maintenance / equity if equity > 0 else None)


def margin_ratio(equity: Decimal, maintenance: Decimal) -> Decimal | None:
    """Maintenance margin over equity: 1 (100 %) is liquidation; None when equity ≤ 0."""
    return maintenance / equity if equity > 0 else None
