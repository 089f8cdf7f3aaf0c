"""The synthetic venue's funding: every ``interval_s`` each of its perpetual instruments gets the
funding times that passed since the last one stored (from its first trade on, at most
``MAX_CATCH_UP`` intervals back), each with ``domain.funding.synthetic_rate`` and the mark price
of that time (the last trade at or before it; a time before any trade is skipped). The rows are
upserted, so a restart, a second replica or a rerun writes nothing twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.funding import INTERVAL_NS, funding_times, synthetic_rate
from tradeloom.market_data.store.funding_store import first_trade_ns, last_funding, price_at, store_funding
from tradeloom.market_data.store.instruments_store import list_instruments
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)
MAX_CATCH_UP = 90  # 30 days of 8-hour intervals


class SyntheticFunding:
    def __init__(
        self, engine: Callable[[], AsyncEngine], schema: str, venue: str, *, interval_s: float
    ) -> None:
        self._engine = engine
        self.schema = schema
        self.venue = venue
        self.interval_s = interval_s

    async def catch_up(self, now_ns: int | None = None) -> int:
        """Store the funding times that passed; how many rows were written (or already there)."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        written = 0
        async with self._engine().begin() as conn:
            perps = await list_instruments(conn, self.schema, self.venue, "perpetual", "active")
            for instrument in perps:
                last = await last_funding(conn, self.schema, self.venue, instrument.symbol)
                start = last.funding_time_ns if last is not None else None
                if start is None:
                    first = await first_trade_ns(conn, self.schema, self.venue, instrument.symbol)
                    start = None if first is None else first - 1
                if start is None:
                    continue  # no trade yet: no mark to fund at
                start = max(start, now_ns - MAX_CATCH_UP * INTERVAL_NS)
                rows = []
                for at in funding_times(start, now_ns):
                    mark = await price_at(conn, self.schema, self.venue, instrument.symbol, at)
                    if mark is not None:
                        rate = synthetic_rate(instrument.symbol, at)
                        rows.append({"venue": self.venue, "symbol": instrument.symbol, "funding_time_ns": at,
                                     "rate": rate, "mark_price": mark.price})  # fmt: skip
                await store_funding(conn, self.schema, rows, "synthetic")
                written += len(rows)
        return written

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.catch_up()
            except Exception as error:  # the database may be restarting: try again next round
                log.warning("synthetic funding failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
