"""A price round (``Ledger.roll``): the scopes holding a symbol whose price moved, and those a new
day left behind, rewritten from their carries a chunk at a time.

Per scope the round only adds today's row (or the rows since its newest one) to a carry that has
not changed, so one transaction per chunk of scopes locks them (sorted, as every writer locks
them), reads their carries, checks none has a fill after its carry, reads the marks once, and
replaces their rows and intraday lows in one statement each: a few statements per chunk instead
of nine per scope. A scope a chunk cannot continue (no carry, a fill after it, a mark changed
before its day) is left to ``ScopeRewrite`` on its own afterwards, which folds it whole if needed.
The rows are ``equity_from``'s, as ``ScopeRewrite`` writes them (``tests/test_equity_carry.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.analytics.domain.equity import MarkBook, equity_from
from tradeloom.analytics.equity_rewrite import ScopeRewrite, newest_seen
from tradeloom.analytics.store.carry_store import CarryStore
from tradeloom.analytics.store.equity_store import EquityStore, Scope, ScopeRows
from tradeloom.analytics.store.intraday_store import IntradayStore


class PriceRound:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        rewrite: ScopeRewrite,
        *,
        chunk: int = 100,
    ) -> None:
        self._engine = engine
        self.rewrite = rewrite
        self.store: EquityStore = rewrite.store
        self.carries: CarryStore = rewrite.carries
        self.intraday: IntradayStore = rewrite.intraday
        self.today = rewrite.today
        self.chunk = chunk

    async def run(self, scopes: Sequence[Scope], marks_from: date | None) -> None:
        """Rewrite ``scopes``; ``marks_from``: the first day whose marks changed (None: none did)."""
        left: list[Scope] = []
        ordered = sorted(scopes)
        for chunk in (ordered[k : k + self.chunk] for k in range(0, len(ordered), self.chunk)):
            async with self._engine().begin() as conn:
                left += await self._continue(conn, chunk, marks_from)
        for scope, scope_id in left:
            async with self._engine().begin() as conn:
                await self.rewrite.rewrite(conn, scope, scope_id, marks_from=marks_from)

    async def _continue(
        self, conn: AsyncConnection, scopes: Sequence[Scope], marks_from: date | None
    ) -> list[Scope]:
        """The chunk's rows from its carries; the scopes it could not continue."""
        await self.store.lock_scopes(conn, scopes)
        carries = await self.carries.get_many(conn, scopes)
        starts: dict[Scope, date] = {}
        for scope, stored in carries.items():
            changed = [day for day in (marks_from, stored.newest_day) if day is not None]
            start = min(changed, default=stored.carry.day)
            if start >= stored.carry.day:
                starts[scope] = start
        usable = {scope: carries[scope] for scope in starts}
        lasts = {scope: stored.carry.last for scope, stored in usable.items()}
        for scope in await self.store.with_fills_after(conn, lasts):
            del usable[scope]
        symbols = sorted({symbol for stored in usable.values() for symbol in stored.carry.quantity})
        marks = await self.store.marks(conn, symbols) if symbols else {}
        book = MarkBook(marks)
        today = self.today()
        items: list[ScopeRows] = []
        lows: list[tuple[Scope, date, Decimal, datetime]] = []
        for scope, stored in usable.items():
            rows, _ = equity_from(stored.carry, [], book, today, starts[scope])
            items.append(ScopeRows(scope, stored.user, stored.account, starts[scope], rows))
            own = {symbol: marks[symbol] for symbol in stored.carry.quantity if symbol in marks}
            seen_at = newest_seen([stored.carry.last[0]], own, today)
            if rows and rows[-1].day == today and seen_at is not None:
                lows.append((scope, today, rows[-1].pnl, seen_at))
        await self.store.replace_rows(conn, items)
        await self.intraday.observe_many(conn, lows)
        return [scope for scope in scopes if scope not in usable]
