"""Marks from market trades: the last price per symbol (``md.evt.trade.>``, new trades only).

One upsert per ingested batch whatever its size (only the newest trade counts, and an older batch
never overwrites a newer price), so a busy market costs one row write per batch; unrealised PnL
and exposure are computed from it when read.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.contracts.market_data import TradesIngested
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError


class Marks:
    def __init__(self, positions: PositionsStore) -> None:
        self.positions = positions

    async def on_trades(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            event = envelope.unwrap(TradesIngested)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        if not event.trades:
            return
        latest = max(event.trades, key=lambda trade: trade.ts_ns)
        await self.positions.set_last_price(conn, event.symbol, latest.price, latest.ts_ns)
