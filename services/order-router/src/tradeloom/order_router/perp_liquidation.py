"""Liquidation of paper perp positions as market prices move (``domain.liquidation``).

The paper matcher calls ``on_prices`` with each trade batch's price range per symbol, in the
batch's own transaction (after its fills), so what a batch does happens once with the inbox claims
of its messages. Every position closed here is stored first (``perp_liquidations``, primary key
account + symbol + the position's ``opened_ns``: a redelivered batch, a later batch or a second
replica finds it and does nothing), then closed and announced (``orders.evt.perp_liquidated``,
outbox), all in that transaction.

- **Isolated** (the position's margin mode, from its opening order): liquidated on its own margin
  when the range reaches its liquidation price; the account's open orders on the symbol are
  cancelled first; closed at the liquidation price, the margin lost (``domain.liquidation``).
- **Cross** (``perp_cross.py``): when a symbol trades, each account holding it cross is measured
  (its settle balance less the isolated margins, plus every cross position's unrealised PnL at the
  marks, the traded symbol at the range's worst price); below the total maintenance margin, all its
  open orders are cancelled and every cross position is closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.liquidation import (
    Liquidation,
    crossed,
    liquidate,
    position_liquidation_price,
)
from tradeloom.order_router.domain.perps import PerpPosition
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.perp_cross import cross_closes, label
from tradeloom.order_router.store.perp_liquidations_store import PerpLiquidationsStore
from tradeloom.quant.margin import DEFAULT_BRACKETS, Bracket
from tradeloom.shared.contracts.orders_perps import PerpLiquidated

REASON = "liquidation"
PriceRange = tuple[Decimal, Decimal, int]  # (low, high, last trade ns) of a batch


def position_of(row: Row[Any]) -> PerpPosition:
    return PerpPosition(Decimal(row.quantity), Decimal(row.entry_price), Decimal(row.margin))


class PerpLiquidator:
    def __init__(
        self, ledger: Ledger, schema: str, brackets: Mapping[str, Sequence[Bracket]] | None = None
    ) -> None:
        self.ledger = ledger
        self.store = PerpLiquidationsStore(schema)
        self.brackets = brackets or {}

    def tiers(self, symbol: str) -> Sequence[Bracket]:
        return self.brackets.get(symbol, DEFAULT_BRACKETS)

    async def on_prices(self, conn: AsyncConnection, ranges: Mapping[tuple[str, str], PriceRange]) -> int:
        """Liquidate every position the ranges reach; how many were liquidated now."""
        done = 0
        for (venue, symbol), (low, high, last_ns) in ranges.items():
            if ":" not in symbol:
                continue  # spot: no perp positions
            at = datetime.fromtimestamp(last_ns / 1e9, UTC)
            for row in await self.store.open_positions(conn, venue, symbol):
                if row.margin_mode == "cross":
                    done += await self._cross(conn, row, (low, high), at)
                else:
                    done += await self._isolated(conn, row, (low, high), at)
        return done

    async def _isolated(
        self, conn: AsyncConnection, seen: Row[Any], prices: tuple[Decimal, Decimal], at: datetime
    ) -> int:
        low, high = prices
        size = Decimal(seen.contract_size)
        price = position_liquidation_price(position_of(seen), size, self.tiers(seen.symbol))
        if not crossed(position_of(seen), price, low, high):
            return 0
        row = await self.store.lock(conn, seen.account_id, seen.symbol, seen.position_side)
        if row is None or row.opened_ns != seen.opened_ns:
            return 0  # closed or reopened meanwhile: the next batch measures the new one
        position = position_of(row)
        price = position_liquidation_price(position, size, self.tiers(row.symbol))
        if price is None or not crossed(position, price, low, high):
            return 0
        outcome = liquidate(position, size, price)
        mark = low if position.quantity > 0 else high
        if not await self._record(conn, row, outcome, mark):
            return 0
        canceled = await self._cancel(conn, row, row.symbol)
        await self.ledger.accounts.apply(
            conn,
            row.account_id,
            row.settle_asset,
            free=outcome.free_change(position.margin),
            locked=-position.margin,
        )
        await self._close(conn, row, outcome, mark, at=at, canceled=canceled)
        return 1

    async def _cross(
        self, conn: AsyncConnection, seen: Row[Any], prices: tuple[Decimal, Decimal], at: datetime
    ) -> int:
        rows = await self.store.account_positions(conn, seen.account_id)
        cross = [r for r in rows if r.margin_mode == "cross" and r.settle_asset == seen.settle_asset]
        trigger = next((r for r in cross if label(r) == label(seen)), None)
        if trigger is None or trigger.opened_ns != seen.opened_ns:
            return 0
        marks = await self.store.last_prices(conn, seen.venue, [r.symbol for r in cross])
        total = await self._settle_total(conn, seen.account_id, seen.settle_asset)
        isolated = sum(
            (
                Decimal(r.margin)
                for r in rows
                if r.margin_mode != "cross" and r.settle_asset == seen.settle_asset
            ),
            Decimal(0),
        )
        closes = cross_closes(
            total - isolated, cross, marks, trigger=label(trigger), prices=prices, tiers=self.tiers
        )
        if closes is None:
            return 0
        recorded = [
            (row, outcome, mark)
            for row, outcome, mark in closes
            if await self._record(conn, row, outcome, mark)
        ]
        if not recorded:
            return 0
        canceled = await self._cancel(conn, seen, None)
        free_before = (await self._balance(conn, seen.account_id, seen.settle_asset))[0]
        margins = sum((Decimal(row.margin) for row, _, _ in recorded), Decimal(0))
        change = sum((o.realised_pnl - o.fee for _, o, _ in recorded), Decimal(0))
        # the wallet goes to 0; a loss beyond it (a gap past every price) is not taken from the
        # balance (the venue's insurance fund carries it)
        change = max(change, -free_before - margins)
        await self.ledger.accounts.apply(
            conn, seen.account_id, seen.settle_asset, free=margins + change, locked=-margins
        )
        for row, outcome, mark in recorded:
            await self._close(conn, row, outcome, mark, at=at, canceled=canceled, mode="cross")
        return len(recorded)

    async def _balance(self, conn: AsyncConnection, account_id: Any, asset: str) -> tuple[Decimal, Decimal]:
        for row in await self.ledger.accounts.balances(conn, account_id):
            if row.asset == asset:
                return Decimal(row.free), Decimal(row.locked)
        return Decimal(0), Decimal(0)

    async def _settle_total(self, conn: AsyncConnection, account_id: Any, asset: str) -> Decimal:
        free, locked = await self._balance(conn, account_id, asset)
        return free + locked

    async def _record(
        self, conn: AsyncConnection, row: Row[Any], outcome: Liquidation, mark: Decimal
    ) -> bool:
        position = position_of(row)
        return await self.store.record(
            conn,
            {
                "account_id": row.account_id,
                "symbol": row.symbol,
                "opened_ns": row.opened_ns,
                "position_side": row.position_side,
                "quantity": position.quantity,
                "entry_price": position.entry_price,
                "margin": position.margin,
                "price": outcome.price,
                "mark_price": mark,
                "realised_pnl": outcome.realised_pnl,
                "fee": outcome.fee,
            },
        )

    async def _cancel(self, conn: AsyncConnection, row: Row[Any], symbol: str | None) -> list[str]:
        """The account's open paper orders (on ``symbol``; all when None) cancelled."""
        canceled = []
        for order in await self.ledger.orders.open_orders(
            conn, symbol=symbol, account_id=row.account_id, paper_only=True
        ):
            await self.ledger.finish(conn, order, states.CANCELED, REASON)
            canceled.append(str(order.id))
        return canceled

    async def _close(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        outcome: Liquidation,
        mark: Decimal,
        *,
        at: datetime,
        canceled: list[str],
        mode: str = "isolated",
    ) -> None:
        position, size = position_of(row), Decimal(row.contract_size)
        await self.ledger.perp_positions.put(
            conn,
            row.account_id,
            row.symbol,
            row.settle_asset,
            PerpPosition(),
            realised=outcome.realised_pnl,
            contract_size=size,
            opened_ns=None,
            position_side=row.position_side,
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
            margin_mode=mode,
            liquidation_price=outcome.price,
            mark_price=mark,
            realised_pnl=outcome.realised_pnl,
            fee=outcome.fee,
            liquidated_at=at,
            canceled_order_ids=canceled,
            position_side=row.position_side or None,
        )
        await self.ledger.outbox.add(conn, event, str(row.account_id))
