"""Daily equity kept from events: fills and bot tags (``orders.evt.>``), marks from closed candles
(``md.evt.candle_closed.>``, from the start of the stream: the replay source) and trades
(``md.evt.trade.>``, new only: live marks).

Each handler runs in its durable consumer's transaction with the message's inbox claim. A fill
rewrites its account's rows (and its bot's, when the order is tagged) at once; a mark only records
the day's newest price and marks the symbol dirty. ``run`` then rewrites, every ``interval_s``, the
scopes a dirty symbol changes, and the scopes with no row for today (the daily roll at UTC midnight
adds the days without trades), a chunk at a time (``equity_roll.PriceRound``); its first round
after a start rewrites every scope whole, so a dirty mark lost in a crash is not lost. Rows are a
pure function of the stored fills and marks (``domain.equity``), so a replay of the streams
rebuilds identical rows.

Each rewrite of a scope also observes today's row: when its change since the previous close is the
lowest seen today, it is kept with the time of the newest price or fill it was measured at
(``store.intraday_store``), so a prop-firm evaluation sees a dip that recovers by the close. The
lows are sampled at each fill and each round (``interval_s``) at the newest marks.

A batch of order events (``BatchConsumer``: one transaction) stores its fills and bot tags first,
then rewrites each scope it touched once, in sorted order (``equity_rewrite.ScopeRewrite``: from
the scope's carry, only the rows from the new fills' first day).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.analytics.domain.bots import bot_of_client_order_id
from tradeloom.analytics.equity_rewrite import ScopeRewrite
from tradeloom.analytics.equity_roll import PriceRound
from tradeloom.analytics.store.carry_store import CarryStore
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.intraday_store import IntradayStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data import CandleClosed, TradesIngested
from tradeloom.shared.contracts.orders import FillRecorded, OrderUpdated
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError

log = logging.getLogger(__name__)

Touched = dict[tuple[str, str], list[tuple[datetime, str]]]  # scope → its fills stored in this batch


def day_of_ns(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).date()


def utc_today() -> date:
    return datetime.now(UTC).date()


class Ledger:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: EquityStore,
        intraday: IntradayStore,
        interval_s: float,
        today: Callable[[], date] = utc_today,
        *,
        on_price: Callable[[str, str, Decimal, int], None] | None = None,
    ) -> None:
        self._engine = engine
        self.store = store
        self.carries = CarryStore(store.s)
        self.rewrite = ScopeRewrite(store, self.carries, intraday, today)
        self.price_round = PriceRound(engine, self.rewrite)
        self.interval_s = interval_s
        self.today = today
        self._dirty: dict[str, date] = {}  # symbol → the first day whose mark changed
        self._all = True  # the first round rewrites every scope
        self._on_price = on_price  # (venue, symbol, price, ts_ns) of each trade batch's newest

    async def on_orders(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        """A batch of ``orders.evt`` events: fills and bot tags stored, each touched scope rewritten once."""
        try:
            events = [order_event(envelope) for envelope in envelopes]
        except ValueError as error:
            raise PermanentError(str(error)) from error
        # A fill and its order's bot tag handled by two replicas at once would each miss the other's
        # row (neither committed): the orders' locks make the second see the first.
        orders = {order for event in events if (order := locked_order(event)) is not None}
        await self.store.lock_orders(conn, sorted(orders))
        touched: Touched = {}
        whole: set[tuple[str, str]] = set()
        for event in events:
            if isinstance(event, FillRecorded):
                await self._fill(conn, event, touched)
            elif isinstance(event, OrderUpdated):
                await self._order(conn, event, whole)
        for scope in sorted(touched.keys() | whole):  # one lock order for every batch
            await self.rewrite.rewrite(conn, *scope, added=touched.get(scope, ()), whole=scope in whole)

    async def _fill(self, conn: AsyncConnection, event: FillRecorded, touched: Touched) -> None:
        info = event.fill
        fee = info.fee if info.fee_asset == quote_of(info.symbol) else info.fee * info.price
        row = {
            "fill_id": info.fill_id, "order_id": info.order_id, "account_id": info.account_id,
            "user_id": event.user_id, "symbol": info.symbol, "side": info.side, "price": info.price,
            "quantity": info.quantity, "fee": fee, "filled_at": info.filled_at,
        }  # fmt: skip
        stored_at = await self.store.add_fill(conn, row)
        if stored_at is None:
            return
        key = (stored_at, info.fill_id)  # as the carries and the fills' reads see it
        touched.setdefault(("account", info.account_id), []).append(key)
        bot = await self.store.bot_of_order(conn, info.order_id)
        if bot is not None:
            touched.setdefault(("bot", bot), []).append(key)

    async def _order(self, conn: AsyncConnection, event: OrderUpdated, whole: set[tuple[str, str]]) -> None:
        """A bot's order tagged after its fills were stored: the bot's fills gained older ones."""
        order = event.order
        bot = bot_of_client_order_id(order.client_order_id)
        if bot is None:
            return
        tagged = await self.store.tag_order(conn, order.order_id, order.account_id, event.user_id, bot)
        if tagged and await self.store.has_fills_of_order(conn, order.order_id):
            whole.add(("bot", bot))

    async def on_candle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            event = envelope.unwrap(CandleClosed)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        # the candle's last trade is before its end: its close is the price of the day it ends in
        day = day_of_ns(event.close_ns - 1)
        await self.store.set_mark(conn, event.symbol, day, event.close, event.close_ns - 1)
        self._mark_dirty(event.symbol, day)

    async def on_trades(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        """A batch of trade messages: each (venue, symbol, day)'s newest price stored once."""
        newest: dict[tuple[str, str, date], tuple[int, Decimal]] = {}
        for envelope in envelopes:
            try:
                event = envelope.unwrap(TradesIngested)
            except ValueError as error:
                raise PermanentError(str(error)) from error
            latest = max(event.trades, key=lambda trade: trade.ts_ns)
            key = (event.venue, event.symbol, day_of_ns(latest.ts_ns))
            if key not in newest or latest.ts_ns > newest[key][0]:
                newest[key] = (latest.ts_ns, latest.price)
        for (venue, symbol, day), (ts_ns, price) in sorted(newest.items()):
            await self.store.set_mark(conn, symbol, day, price, ts_ns)
            self._mark_dirty(symbol, day)
            if self._on_price is not None:
                self._on_price(venue, symbol, price, ts_ns)

    def _mark_dirty(self, symbol: str, day: date) -> None:
        known = self._dirty.get(symbol)
        self._dirty[symbol] = day if known is None else min(known, day)

    async def roll(self) -> int:
        """One round: rewrite the scopes a dirty symbol or a new day touches; how many."""
        dirty, self._dirty = self._dirty, {}
        everything, self._all = self._all, False
        try:
            scopes = await self._round_scopes(dirty, everything)
            if everything:
                for scope, scope_id in sorted(scopes):
                    async with self._engine().begin() as conn:
                        await self.rewrite.rewrite(conn, scope, scope_id, whole=True)
            else:
                await self.price_round.run(sorted(scopes), min(dirty.values(), default=None))
        except Exception:
            for symbol, day in dirty.items():  # try these again next round
                self._mark_dirty(symbol, day)
            self._all = self._all or everything
            raise
        return len(scopes)

    async def _round_scopes(self, dirty: dict[str, date], everything: bool) -> set[tuple[str, str]]:
        """Every scope after a start; else those a new day or the moved prices change (from the
        carries: no fill is read)."""
        async with self._engine().connect() as conn:
            if everything:
                return set(await self.store.every_scope(conn))
            today = self.today()
            scopes = set(await self.carries.stale_scopes(conn, today))
            if dirty:
                first = min(dirty.values())
                scopes |= set(await self.carries.scopes_to_mark(conn, sorted(dirty), first, today))
            return scopes

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.roll()
            except Exception as error:  # Postgres restarting: the next round tries again
                log.warning("daily equity round failed: %r", error)
            await wait_for_stop(stop, self.interval_s)


def order_event(envelope: Envelope) -> FillRecorded | OrderUpdated | None:
    """The fill or order update an ``orders.evt`` envelope carries (None: another event)."""
    if envelope.type == FillRecorded.event_type():
        return envelope.unwrap(FillRecorded)
    if envelope.type == OrderUpdated.event_type():
        return envelope.unwrap(OrderUpdated)
    return None


def locked_order(event: FillRecorded | OrderUpdated | None) -> str | None:
    """The order whose bot tag ``event`` reads or writes: a fill's, a bot's order's."""
    if isinstance(event, FillRecorded):
        return event.fill.order_id
    if isinstance(event, OrderUpdated) and bot_of_client_order_id(event.order.client_order_id):
        return event.order.order_id
    return None


def quote_of(symbol: str) -> str:
    """``BTC/USDT`` → ``USDT`` (fees and cash are in the quote asset)."""
    return symbol.rsplit("/", 1)[-1].split(":", 1)[0]
