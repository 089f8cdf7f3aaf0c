"""Marks from market trades: the last price per symbol (``md.evt.trade.>``, new trades only), and
alerts re-evaluated as prices move, coalesced per account to a bounded rate.

One upsert per fetched batch of messages whatever its size: the consumer applies a batch in one
transaction (``on_batch``, waiting ``MARKS_GATHER_S`` after a first message for more), and only the
newest trade of each symbol in it counts (an older one never overwrites a newer price, in Postgres
or in memory), so the batch's marks of one symbol coalesce to its last. What the marks feed needs
only the last price: the check's prices, ``last_prices`` (exposure, equity, the end-of-day roll's
``eod_marks``) and the mark-to-market round. The symbol is then marked dirty in memory; every
``MARK_INTERVAL_S`` the accounts holding a dirty symbol are measured against their limits once each
(``Alerter``, at the newest price: the round never saw a price overtaken within its interval, so
coalescing a batch loses no breach it could find), and their perpetual margin pools once per
account (``MarginAlerts``), however many trades came in between, so a busy market cannot flood the
service.
A dirty mark lost in a crash is set again by the next trade.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.risk_monitor.alerts import Alerter
from tradeloom.risk_monitor.check_state import CheckState, on_commit
from tradeloom.risk_monitor.margin_alerts import MarginAlerts
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data import TradesIngested
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError

log = logging.getLogger(__name__)


class Marks:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        positions: PositionsStore,
        alerter: Alerter,
        interval_s: float,
        margin_alerts: MarginAlerts | None = None,
        *,
        state: CheckState | None = None,
    ) -> None:
        self.state = state
        self._engine = engine
        self.positions = positions
        self.alerter = alerter
        self.interval_s = interval_s
        self.margin_alerts = margin_alerts
        self._dirty: dict[str, Decimal] = {}

    async def on_batch(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        """The newest trade of each symbol in ``envelopes``, stored in one statement."""
        newest: dict[str, tuple[Decimal, int]] = {}
        for envelope in envelopes:
            try:
                event = envelope.unwrap(TradesIngested)
            except ValueError as error:  # the batch is applied again one by one: only this one fails
                raise PermanentError(str(error)) from error
            if not event.trades:
                continue
            latest = max(event.trades, key=lambda trade: trade.ts_ns)
            known = newest.get(event.symbol)
            if known is None or known[1] < latest.ts_ns:
                newest[event.symbol] = (latest.price, latest.ts_ns)
        if not newest:
            return
        await self.positions.set_last_prices(conn, newest)
        state = self.state
        if state is not None:  # the check's marks

            def remember() -> None:
                for symbol, (price, ts_ns) in newest.items():
                    state.set_price(symbol, price, ts_ns)

            on_commit(conn, remember)
        for symbol, (price, _) in newest.items():
            self._dirty[symbol] = price

    async def revalue(self) -> int:
        """Measure every account holding a symbol whose price moved; the number of accounts."""
        dirty, self._dirty = self._dirty, {}
        if not dirty:
            return 0
        async with self._engine().begin() as conn:
            holders = await self.positions.holders(conn, list(dirty))
            for user_id, account_id, symbol in holders:
                await self.alerter.evaluate(conn, user_id, account_id, symbol, dirty[symbol])
            if self.margin_alerts is not None:  # once per account, however many of its symbols moved
                for user_id, account_id in dict.fromkeys((user, account) for user, account, _ in holders):
                    await self.margin_alerts.evaluate(conn, user_id, account_id)
        return len(holders)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.revalue()
            except Exception as error:  # Postgres restarting: the next trade marks it again
                log.warning("mark-to-market round failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
