"""``risk.evt.flatten.v1.<account>``: ask to close every position of an account (what it holds now,
netted over its bots), written to the outbox in the caller's transaction."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.contracts.risk import FlattenPosition, RiskFlatten
from tradeloom.shared.outbox import Outbox


async def flatten(
    conn: AsyncConnection,
    positions: PositionsStore,
    outbox: Outbox,
    *,
    user_id: str,
    account_ids: list[str] | None,
    reason: str,
) -> list[str]:
    """One flatten event per account of ``user_id`` (``account_ids`` None: all their accounts) that
    holds something; the accounts asked."""
    held: dict[str, dict[str, Decimal]] = {}
    for row in await positions.positions(conn, user_id, None):
        if account_ids is None or row.account_id in account_ids:
            symbols = held.setdefault(row.account_id, {})
            symbols[row.symbol] = symbols.get(row.symbol, Decimal(0)) + Decimal(row.quantity)
    asked: list[str] = []
    for account_id, symbols in sorted(held.items()):
        items = [FlattenPosition(symbol=s, quantity=q) for s, q in sorted(symbols.items()) if q != 0]
        if items:
            event = RiskFlatten(user_id=user_id, account_id=account_id, reason=reason, positions=items)
            await outbox.add(conn, event, account_id)
            asked.append(account_id)
    return asked
