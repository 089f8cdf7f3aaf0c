"""The end-of-day roll: each account's balance history, rolled at its own day boundary.

Every ``EOD_INTERVAL_S`` the history of every account with fills is computed again from its fills
(``domain.drawdown``), from the trading day of its first fill to the last day that has ended at
the account's boundary (its limits' time zone and time; UTC midnight without limits), days without
fills included, and the rows that changed are written. So a day is rolled within one interval of
its boundary, a late fill rewrites the days it changed, and a restart loses nothing.

Each roll keeps the last trade price of every symbol an account holds as the marks of the last
ended day (the first roll after the boundary wins); the closing balance values the positions open
at each close at its kept marks (else the symbol's last fill price before it: ``domain.eod_marks``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.check_state import CheckState, on_commit
from tradeloom.risk_monitor.domain.drawdown import eod_history
from tradeloom.risk_monitor.domain.eod_marks import unrealised_by_day
from tradeloom.risk_monitor.domain.limits import Limits, trading_day
from tradeloom.risk_monitor.store.eod_store import EodStore
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)


class EodRoller:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        cache: RiskCache,
        store: EodStore,
        interval_s: float,
        state: CheckState | None = None,
    ) -> None:
        self._engine = engine
        self.cache = cache
        self.store = store
        self.interval_s = interval_s
        self.state = state  # the pre-trade check's memory: told the new high-water marks at commit

    async def roll(self, now: datetime | None = None) -> int:
        """Bring every account's history up to the last ended day; the number of accounts rolled."""
        now = now or datetime.now(UTC)
        await self.cache.ensure_loaded()
        rolled = 0
        async with self._engine().begin() as conn:
            for user_id, account_id, first_fill in await self.store.accounts(conn):
                limits = self.cache.limits(user_id, account_id) or Limits()
                tz, boundary = limits.day_boundary_tz, limits.day_boundary_time
                first, _ = trading_day(first_fill, tz, boundary)
                today, _ = trading_day(now, tz, boundary)
                last = today - timedelta(days=1)
                if last < first:
                    continue
                pnl = await self.store.daily_pnl(conn, account_id, tz, boundary)
                await self.store.keep_marks(conn, account_id, last)
                flows = await self.store.daily_flows(conn, account_id, tz, boundary)
                marks = await self.store.marks(conn, account_id)
                unrealised = unrealised_by_day(first, last, flows, marks)
                starting = limits.starting_balance or Decimal(0)
                rows = eod_history(first, last, pnl, starting, limits.max_drawdown, unrealised=unrealised)
                await self.store.save(conn, user_id, account_id, rows)
                if rows and self.state is not None:
                    self._tell_state(conn, account_id, rows[-1].high_water)
                rolled += 1
        return rolled

    def _tell_state(self, conn: AsyncConnection, account_id: str, high_water: Decimal) -> None:
        state = self.state
        assert state is not None
        on_commit(conn, lambda: state.eod_rolled(account_id, high_water))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.roll()
            except Exception as error:  # Postgres restarting: the next round catches up
                log.warning("end-of-day roll failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
