"""Liquidation of paper perp positions as market prices move (``domain.liquidation``).

The paper matcher calls ``on_prices`` with each trade batch's price range per symbol, in the
batch's own transaction (after its fills), so what a batch does happens once with the inbox claims
of its messages. For each position the range crosses (read again under its row lock), in that
same transaction: its account's open orders on the symbol are cancelled first (their locks return
to free), the liquidation is stored (``perp_liquidations``, primary key account + symbol + the
position's ``opened_ns``: a redelivered batch, a later batch or a second replica finds it and does
nothing), the position is closed at its liquidation price (its margin leaves the locked balance;
PnL and the fee net to nothing in free), and ``orders.evt.perp_liquidated`` goes to the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.liquidation import crossed, liquidate, position_liquidation_price
from tradeloom.order_router.domain.perps import PerpPosition
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.store.perp_liquidations_store import PerpLiquidationsStore
from tradeloom.quant.margin import DEFAULT_BRACKETS, Bracket
from tradeloom.shared.contracts.orders_perps import PerpLiquidated

REASON = "liquidation"
PriceRange = tuple[Decimal, Decimal, int]  # (low, high, last trade ns) of a batch


def _position(row: Row[Any]) -> PerpPosition:
    return PerpPosition(Decimal(row.quantity), Decimal(row.entry_price), Decimal(row.margin))


class PerpLiquidator:
    def __init__(
        self, ledger: Ledger, schema: str, brackets: Mapping[str, Sequence[Bracket]] | None = None
    ) -> None:
        self.ledger = ledger
        self.store = PerpLiquidationsStore(schema)
        self.brackets = brackets or {}

    def _tiers(self, symbol: str) -> Sequence[Bracket]:
        return self.brackets.get(symbol, DEFAULT_BRACKETS)

    async def on_prices(self, conn: AsyncConnection, ranges: Mapping[tuple[str, str], PriceRange]) -> int:
        """Liquidate every position the ranges cross; how many were liquidated now."""
        done = 0
        for (venue, symbol), (low, high, last_ns) in ranges.items():
            if ":" not in symbol:
                continue  # spot: no perp positions
            at = datetime.fromtimestamp(last_ns / 1e9, UTC)
            for row in await self.store.open_positions(conn, venue, symbol):
                done += await self._maybe(conn, row, (low, high), at)
        return done

    async def _maybe(
        self, conn: AsyncConnection, seen: Row[Any], prices: tuple[Decimal, Decimal], at: datetime
    ) -> int:
        low, high = prices
        size = Decimal(seen.contract_size)
        if not crossed(
            _position(seen),
            position_liquidation_price(_position(seen), size, self._tiers(seen.symbol)),
            low,
            high,
        ):
            return 0
        row = await self.store.lock(conn, seen.account_id, seen.symbol)
        if row is None or row.opened_ns != seen.opened_ns:
            return 0  # closed or reopened meanwhile: the next batch measures the new one
        position = _position(row)
        price = position_liquidation_price(position, size, self._tiers(row.symbol))
        if not crossed(position, price, low, high):
            return 0
        assert price is not None
        mark = low if position.quantity > 0 else high
        outcome = liquidate(position, size, price)
        recorded = await self.store.record(
            conn,
            {
                "account_id": row.account_id,
                "symbol": row.symbol,
                "opened_ns": row.opened_ns,
                "quantity": position.quantity,
                "entry_price": position.entry_price,
                "margin": position.margin,
                "price": price,
                "mark_price": mark,
                "realised_pnl": outcome.realised_pnl,
                "fee": outcome.fee,
            },
        )
        if not recorded:
            return 0
        canceled = []
        for order in await self.ledger.orders.open_orders(
            conn, symbol=row.symbol, account_id=row.account_id, paper_only=True
        ):
            await self.ledger.finish(conn, order, states.CANCELED, REASON)
            canceled.append(str(order.id))
        await self.ledger.accounts.apply(
            conn,
            row.account_id,
            row.settle_asset,
            free=outcome.free_change(position.margin),
            locked=-position.margin,
        )
        await self.ledger.perp_positions.put(
            conn,
            row.account_id,
            row.symbol,
            row.settle_asset,
            PerpPosition(),
            realised=outcome.realised_pnl,
            contract_size=size,
            opened_ns=None,
        )
        event = PerpLiquidated(
            user_id=row.user_id,
            account_id=str(row.account_id),
            venue=row.venue,
            symbol=row.symbol,
            settle_asset=row.settle_asset,
            position_opened_ns=row.opened_ns,
            quantity=position.quantity,
            contract_size=size,
            entry_price=position.entry_price,
            margin=position.margin,
            liquidation_price=price,
            mark_price=mark,
            realised_pnl=outcome.realised_pnl,
            fee=outcome.fee,
            liquidated_at=at,
            canceled_order_ids=canceled,
        )
        await self.ledger.outbox.add(conn, event, str(row.account_id))
        return 1
