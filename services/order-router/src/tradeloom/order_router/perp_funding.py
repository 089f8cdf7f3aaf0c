"""Funding payments on paper perp positions, each exactly once per account, symbol and funding time.

Every ``interval_s`` the router asks market-data (``funding_rates``, the history it records every
8 h) for the funding times after the last one each open position settled, and pays each in its own
transaction with its ``orders.evt.funding_paid`` event (outbox). The ``perp_fundings`` primary key
(account + symbol + funding time + position side: hedge mode funds the long and the short each)
is the idempotency key: a repeated answer, a second sweep, a
restart or a second replica pays nothing twice.
A long pays ``quantity × contract size × mark × rate`` into its settle asset's free balance when the
rate is positive, a short receives it (``domain.perps.funding_payment``). A payment larger than the
free balance takes the rest from the position's margin (held as locked), never below zero.
The quantity used is the position's at the time of the sweep (sweeps run far more often than the
8-hourly funding times).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain.perps import funding_payment
from tradeloom.order_router.store.accounts_store import AccountsStore
from tradeloom.order_router.store.perp_fundings_store import PerpFundingsStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data_funding import FundingRate, FundingRatesReply, FundingRatesRequest
from tradeloom.shared.contracts.orders_perps import FundingPaid
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)


class PerpFunding:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        client: Callable[[], ServiceClient],
        outbox: Outbox,
        *,
        interval_s: float,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self.store = PerpFundingsStore(schema)
        self.accounts = AccountsStore(schema)
        self.client = client
        self.outbox = outbox
        self.interval_s = interval_s
        self.timeout_s = timeout_s

    async def sweep(self) -> int:
        """Pay every funding time that passed on every open position; how many were paid now."""
        async with self._engine().connect() as conn:
            positions = await self.store.open_positions(conn)
        paid = 0
        for position in positions:
            request = FundingRatesRequest(
                symbol=position.symbol, venue=position.venue, from_ns=position.funded_through_ns + 1
            )
            reply = await self.client().call(
                "market-data", "funding_rates", request, FundingRatesReply, timeout_s=self.timeout_s
            )
            for rate in reply.items:
                async with self._engine().begin() as conn:
                    paid += await self.pay(conn, position, rate)
        return paid

    async def pay(self, conn: AsyncConnection, owner: Row[Any], rate: FundingRate) -> bool:
        """Pay one funding time on one position (once); False when already paid or not owed."""
        position = await self.store.position(conn, owner.account_id, owner.symbol, owner.position_side)
        if position is None or position.quantity == 0 or rate.funding_time_ns <= position.funded_through_ns:
            return False
        quantity = Decimal(position.quantity)
        amount = funding_payment(quantity, rate.mark_price, Decimal(position.contract_size), rate.rate)
        values = {
            "account_id": owner.account_id,
            "symbol": owner.symbol,
            "funding_time_ns": rate.funding_time_ns,
            "quantity": quantity,
            "rate": rate.rate,
            "mark_price": rate.mark_price,
            "amount": amount,
            "position_side": owner.position_side,
        }
        if not await self.store.record(conn, values):
            return False
        free = await self._free(conn, owner.account_id, position.settle_asset)
        taken = Decimal(0)
        if amount < 0 and -amount > free:
            taken = min(-amount - free, Decimal(position.margin))
        await self.accounts.apply(
            conn, owner.account_id, position.settle_asset, free=amount + taken, locked=-taken
        )
        await self.store.settled(
            conn,
            owner.account_id,
            owner.symbol,
            position_side=owner.position_side,
            funding_time_ns=rate.funding_time_ns,
            amount=amount,
            margin_taken=taken,
        )
        event = FundingPaid(
            user_id=owner.user_id,
            account_id=str(owner.account_id),
            venue=owner.venue,
            symbol=owner.symbol,
            settle_asset=position.settle_asset,
            funding_time_ns=rate.funding_time_ns,
            quantity=quantity,
            contract_size=Decimal(position.contract_size),
            mark_price=rate.mark_price,
            rate=rate.rate,
            amount=amount,
            position_side=owner.position_side or None,
        )
        await self.outbox.add(conn, event, str(owner.account_id))
        return True

    async def _free(self, conn: AsyncConnection, account_id: Any, asset: str) -> Decimal:
        for row in await self.accounts.balances(conn, account_id):
            if row.asset == asset:
                return Decimal(row.free)
        return Decimal(0)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as error:  # market-data or the database may be away: next round
                log.warning("perp funding failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
