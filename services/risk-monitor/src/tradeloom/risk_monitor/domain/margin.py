"""An account's perpetual margin pools: maintenance margin, margin ratio and liquidation prices.

Each isolated position is its own pool: collateral = its margin ``|quantity| × entry / leverage``,
equity = collateral + unrealised PnL. The cross positions share one pool: its balance is the
account's equity (which already holds every perpetual's PnL) minus every perpetual's unrealised PnL
and minus the isolated positions' margins (set aside for them); its equity adds the cross positions'
unrealised PnL back. ``tradeloom.quant.margin`` gives the maintenance margins (tiered, at the marks)
and the liquidation prices (a cross one with the other cross positions held at their marks).

A pool's margin ratio is maintenance / equity (1 = liquidation, None when equity ≤ 0, i.e. past
it). The account's ``margin_ratio`` is the worst pool's: how close the account is to any
liquidation. Without an equity (the alerts' path when no ``starting_balance`` is set) only the
isolated pools are measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from tradeloom.quant.margin import (
    Brackets,
    CrossPosition,
    cross_liquidation_prices,
    cross_margin,
    liquidation_price,
    maintenance_margin,
    margin_ratio,
)
from tradeloom.risk_monitor.domain.perps import MarginMode
from tradeloom.risk_monitor.domain.positions import CONTEXT, PLACES

ZERO = Decimal(0)
CROSS = "cross"


@dataclass(frozen=True)
class PerpHolding:
    symbol: str
    quantity: Decimal  # base units, signed
    entry: Decimal
    mark: Decimal | None
    leverage: Decimal
    margin_mode: MarginMode
    brackets: Brackets

    @property
    def price(self) -> Decimal:
        return self.entry if self.mark is None else self.mark


@dataclass(frozen=True)
class MarginPool:
    name: str  # "cross", or the isolated position's symbol
    equity: Decimal
    maintenance: Decimal
    ratio: Decimal | None  # None: equity ≤ 0

    @property
    def liquidating(self) -> bool:
        return self.equity < self.maintenance


@dataclass(frozen=True)
class AccountMargin:
    maintenance_margin: Decimal
    margin_ratio: Decimal | None  # the worst pool's; None when no pool or a pool's equity is ≤ 0
    liquidation_prices: dict[str, Decimal]
    pools: list[MarginPool]

    @property
    def liquidating(self) -> list[str]:
        """The pools whose equity is below their maintenance margin."""
        return [pool.name for pool in self.pools if pool.liquidating]


def account_margin(equity: Decimal | None, holdings: Sequence[PerpHolding]) -> AccountMargin:
    """The pools of the account's open perpetuals (flat ones ignored) at their marks."""
    with localcontext(CONTEXT):
        return _account_margin(equity, [h for h in holdings if h.quantity != 0])


def _account_margin(equity: Decimal | None, open_: list[PerpHolding]) -> AccountMargin:
    pools: list[MarginPool] = []
    prices: dict[str, Decimal] = {}
    total = ZERO
    cross = [h for h in open_ if h.margin_mode == CROSS]
    set_aside = ZERO
    for held in open_:
        maintenance = maintenance_margin(abs(held.quantity) * held.price, held.brackets)
        total += maintenance
        if held.margin_mode == CROSS:
            continue
        collateral = abs(held.quantity) * held.entry / held.leverage
        set_aside += collateral
        pool_equity = collateral + held.quantity * (held.price - held.entry)
        pools.append(
            MarginPool(held.symbol, pool_equity, maintenance, margin_ratio(pool_equity, maintenance))
        )
        price = liquidation_price(held.quantity, held.entry, collateral, held.brackets)
        if price is not None:
            prices[held.symbol] = _round(price)
    if cross and equity is not None:
        positions = [CrossPosition(h.symbol, h.quantity, h.entry, h.price, h.brackets) for h in cross]
        unrealised = sum((h.quantity * (h.price - h.entry) for h in open_), ZERO)
        balance = equity - unrealised - set_aside
        pool = cross_margin(balance, positions)
        pools.append(MarginPool(CROSS, pool.equity, pool.maintenance, pool.ratio))
        for symbol, price in cross_liquidation_prices(balance, positions).items():
            if price is not None:
                prices[symbol] = _round(price)
    return AccountMargin(_round(total), worst_ratio(pools), prices, pools)


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, context=CONTEXT)


def worst_ratio(pools: Sequence[MarginPool]) -> Decimal | None:
    if not pools or any(pool.ratio is None for pool in pools):
        return None
    return _round(max(pool.ratio for pool in pools if pool.ratio is not None))
