"""One scope's daily-equity rows rewritten from its fills and marks, continued from its carry.

A whole fold reads every fill of the scope; over months a busy account's or bot's fills number in
the tens of thousands, and each new fill and each moved price (``Ledger.roll``, every few seconds)
would fold them all again. The scope's carry (``domain.equity.Carry``: the fold's state after its
newest fill, stored beside the rows) lets a rewrite read only the fills after it and write only the
rows from the first day that can change: the earliest of the new fills' days, the day a mark
changed and the newest stored row's day (which also fills the days a pause left out).

The scope is folded whole instead when it has no carry, when the caller says so (a bot's orders
tagged after their fills, the first round after a start), when a fill written in this transaction
sorts at or before the carry's last fill (out of order, or another transaction's rewrite came
first), or when a mark changed before the carry's day. Both ways give the same rows figure for
figure (``tests/test_equity_carry.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.analytics.domain.equity import DayEquity, MarkBook, equity_from, to_ns
from tradeloom.analytics.store.carry_store import CarryStore, StoredCarry
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.intraday_store import IntradayStore


class ScopeRewrite:
    def __init__(
        self, store: EquityStore, carries: CarryStore, intraday: IntradayStore, today: Callable[[], date]
    ) -> None:
        self.store = store
        self.carries = carries
        self.intraday = intraday
        self.today = today

    async def rewrite(
        self,
        conn: AsyncConnection,
        scope: str,
        scope_id: str,
        *,
        added: Sequence[tuple[datetime, str]] = (),
        marks_from: date | None = None,
        whole: bool = False,
    ) -> None:
        """Rewrite the scope's rows: ``added`` the ``(filled_at, fill_id)`` of fills stored in this
        transaction, ``marks_from`` the first day whose marks changed, ``whole`` to fold it all."""
        await self.store.lock_scope(conn, scope, scope_id)
        stored = None if whole else await self.carries.get(conn, scope, scope_id)
        if (
            stored is not None
            and all(key > stored.carry.last for key in added)
            and await self._continue(conn, scope, scope_id, stored, marks_from)
        ):
            return
        await self._whole(conn, scope, scope_id)

    async def _whole(self, conn: AsyncConnection, scope: str, scope_id: str) -> None:
        fills, user, account = await self.store.fills(conn, scope, scope_id)
        marks = await self.store.marks(conn, sorted({fill.symbol for fill in fills}))
        rows, carry = equity_from(None, fills, MarkBook(marks), self.today())
        await self.store.write_rows(conn, scope, scope_id, user=user, account=account, rows=rows)
        if carry is None:
            await self.carries.drop(conn, scope, scope_id)
        else:
            await self.carries.put(conn, scope, scope_id, carry, user, account)
        await self._observe(conn, scope, scope_id, rows, (fill.filled_at for fill in fills), marks)

    async def _continue(
        self, conn: AsyncConnection, scope: str, scope_id: str, stored: StoredCarry, marks_from: date | None
    ) -> bool:
        """Rows from the first day that can change; False when that is before the carry's day."""
        carry = stored.carry
        if marks_from is not None and marks_from < carry.day:
            return False
        fills, _, _ = await self.store.fills(conn, scope, scope_id, after=carry.last)
        days = [fill.filled_at.date() for fill in fills]
        days += [day for day in (marks_from, stored.newest_day) if day is not None]
        start = min(days, default=carry.day)
        if start < carry.day:
            return False
        symbols = set(carry.quantity) | {fill.symbol for fill in fills}
        marks = await self.store.marks(conn, sorted(symbols))
        rows, after = equity_from(carry, fills, MarkBook(marks), self.today(), start)
        await self.store.write_rows(
            conn, scope, scope_id, user=stored.user, account=stored.account, rows=rows, start=start
        )
        if after is not None and after is not carry:
            await self.carries.put(conn, scope, scope_id, after, stored.user, stored.account)
        seen = [fill.filled_at for fill in fills] + [carry.last[0]]
        await self._observe(conn, scope, scope_id, rows, seen, marks)
        return True

    async def _observe(  # noqa: PLR0917 (the scope, its new rows and what they saw)
        self,
        conn: AsyncConnection,
        scope: str,
        scope_id: str,
        rows: Sequence[DayEquity],
        filled_at: Iterable[datetime],
        marks: Mapping[str, Sequence[tuple[date, int, Decimal]]],
    ) -> None:
        """Today's row as an intraday observation, at the time of the newest price it used."""
        today = self.today()
        seen_at = newest_seen(filled_at, marks, today)
        if rows and rows[-1].day == today and seen_at is not None:
            await self.intraday.observe(conn, scope, scope_id, today, rows[-1].pnl, seen_at)


def newest_seen(
    filled_at: Iterable[datetime], marks: Mapping[str, Sequence[tuple[date, int, Decimal]]], day: date
) -> datetime | None:
    """When the newest price of ``day`` was seen (a mark or a fill of the scope's symbols)."""
    times = [to_ns(at) for at in filled_at if at.date() == day]
    times += [ts_ns for points in marks.values() for seen, ts_ns, _ in points if seen == day]
    if not times:
        return None
    newest = max(times)
    return datetime.fromtimestamp(newest // 1_000_000_000, UTC).replace(
        microsecond=newest % 1_000_000_000 // 1000
    )
