"""Settling a paper perpetual fill: the order's lock, the position's margin and realised PnL.

All in the settle asset (``orders.lock_asset``). The fill spends its share of the order's lock
(``spent``, the same pro-rata share the matcher took); of it the fee is paid and the margin of the
opening part moves to the position (kept as locked). A closing part returns its share of the
position's margin and its realised PnL to free. Net, for the settle balance:
``locked += margin_added − spent − margin_released`` and
``free += spent − fee − margin_added + margin_released + realised_pnl``.
The margin taken never exceeds what the lock paid for (``spent − fee``): a sell limit filled above
its price keeps its margin at the locked amount rather than drawing on free funds.
In hedge mode the order's ``position_side`` names the position (row) it opens or closes.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain.hedge import hedge_fill_quantity
from tradeloom.order_router.domain.matching import Fill
from tradeloom.order_router.domain.perps import PerpFill, apply_fill, lock_share
from tradeloom.order_router.store.accounts_store import AccountsStore
from tradeloom.order_router.store.perp_positions_store import PerpPositionsStore


async def settle_perp_fill(
    conn: AsyncConnection,
    accounts: AccountsStore,
    positions: PerpPositionsStore,
    row: Row[Any],
    fill: Fill,
    *,
    opened_ns: int,
) -> PerpFill:
    """Apply one perp fill of order ``row`` (read before the fill, at ``opened_ns``) to its
    position and balance."""
    side = row.position_side or ""
    position = await positions.get(conn, row.account_id, row.symbol, for_update=True, position_side=side)
    spent = lock_share(
        Decimal(row.locked), fill.quantity, Decimal(row.quantity) - Decimal(row.filled_quantity)
    )
    outcome = apply_fill(
        position,
        row.side,
        hedge_fill_quantity(position, side, row.side, fill.quantity),
        fill.price,
        contract_size=Decimal(row.contract_size),
        leverage=Decimal(row.leverage),
    )
    affordable = max(spent - fill.fee, Decimal(0))
    if outcome.margin_added > affordable:
        excess = outcome.margin_added - affordable
        outcome = replace(
            outcome,
            margin_added=affordable,
            position=replace(outcome.position, margin=outcome.position.margin - excess),
        )
    locked = outcome.margin_added - spent - outcome.margin_released
    free = spent - fill.fee - outcome.margin_added + outcome.margin_released + outcome.realised_pnl
    await accounts.apply(conn, row.account_id, row.lock_asset, free=free, locked=locked)
    await positions.put(
        conn,
        row.account_id,
        row.symbol,
        row.lock_asset,
        outcome.position,
        realised=outcome.realised_pnl,
        contract_size=Decimal(row.contract_size),
        opened_ns=opened_ns if position.is_flat and not outcome.position.is_flat else None,
        margin_mode=row.margin_mode or "cross",
        position_side=side,
    )
    return outcome
