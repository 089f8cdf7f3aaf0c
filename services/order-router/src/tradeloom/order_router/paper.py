"""The paper exchange: market-data trades fill open paper orders; halts cancel them.

Each fetched batch of trade messages is applied in one transaction together with the inbox claims
of all its messages (``BatchConsumer``; halts: ``DurableConsumer``, one per message), so fills,
balances, order states and their events happen exactly once even when JetStream redelivers.
A fill's venue id is ``paper:<order>:<trade>``, unique per trade. A batch's fills of plain orders
(``paper_fills``) are written together at its end; every other change goes through the ledger
one order at a time, after the plain fills so far are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from opentelemetry import trace
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import Outcome, PaperOrder, Trade, match, may_match
from tradeloom.order_router.exits import is_bracket_entry
from tradeloom.order_router.flatten import Flattener
from tradeloom.order_router.ledger import Announcement, Ledger
from tradeloom.order_router.paper_fills import PlainFills, fill_source, is_plain, outcome_fields
from tradeloom.order_router.perp_liquidation import PerpLiquidator, PriceRange
from tradeloom.order_router.store.paper_book import PaperBook
from tradeloom.order_router.store.rows import paper_order
from tradeloom.order_router.submit_values import account_costs
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.contracts.risk import (
    RiskAccountHalt,
    RiskAccountResume,
    RiskFlatten,
    RiskHalt,
    RiskResume,
)
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.telemetry import extract_trace, tracer

log = logging.getLogger(__name__)
GLOBAL_KEY = "*"


Key = tuple[str, str]  # (venue, symbol)
LIVE = (states.NEW, states.PARTIALLY_FILLED)


@dataclass
class _Resting:
    """The open orders of one symbol that this batch's prices may reach, in id (time) order, with
    the ids this transaction already holds a row lock on (their rows here are then current)."""

    low: Decimal
    high: Decimal
    last_ns: int
    orders: dict[Any, tuple[Row[Any], PaperOrder]] = field(default_factory=dict)
    locked: set[Any] = field(default_factory=set)

    def keep(self, rows: list[Row[Any]]) -> None:
        """Replace the book by ``rows``: those already here or that the batch's prices may reach."""
        kept = {}
        for row in rows:
            order = paper_order(row)
            if row.id in self.orders or may_match(order, self.low, self.high, self.last_ns):
                kept[row.id] = (row, order)
        self.orders = kept


def _latest(events: list[TradesIngested]) -> dict[Key, TradeTick]:
    """The newest trade of each (venue, symbol) of a batch."""
    latest: dict[Key, TradeTick] = {}
    for event in events:
        for tick in event.trades:
            seen = latest.get((event.venue, event.symbol))
            if seen is None or tick.ts_ns >= seen.ts_ns:
                latest[(event.venue, event.symbol)] = tick
    return latest


@contextlib.contextmanager
def order_span(row: Row[Any]) -> Iterator[None]:
    """A match continues its order's own trace (kept from the submit), linked to the trade's, so
    the order's fill and status events (and whoever consumes them) join the order's trace."""
    trade = trace.get_current_span().get_span_context()
    parent = extract_trace({"traceparent": row.traceparent}) if row.traceparent else None
    with tracer().start_as_current_span(
        "paper match",
        context=parent,
        links=[trace.Link(trade)] if trade.is_valid else None,
        attributes={"order.id": str(row.id), "order.symbol": row.symbol},
    ):
        yield


class PaperMatcher:
    """Matches each batch of trade messages in one transaction (``BatchConsumer``): the last
    prices of its symbols and their resting paper orders are one statement each, orders its prices
    cannot reach are skipped (``may_match``), then each trade in stream order meets each remaining
    order in time order; an order a trade changes is locked and read again before it changes."""

    def __init__(self, ledger: Ledger, schema: str, liquidator: PerpLiquidator | None = None) -> None:
        self.ledger = ledger
        self.schema = schema
        self.book = PaperBook(schema)
        self.liquidator = liquidator

    async def without_orders(self, conn: AsyncConnection, envelopes: list[Envelope]) -> bool:
        """The consumer's probe (``BatchConsumer``, an autocommit connection): a batch of spot
        trades on symbols no paper order rests on only moves their last prices, an idempotent
        write (a newer price is never overwritten), so it is taken here in one statement, without
        a transaction or inbox claims: True. Anything else (an order resting there, a perpetual,
        whose positions may be liquidated, a message that is not a trade event) is False, for
        ``on_trades``. An order accepted meanwhile is no different from one accepted just after
        ``on_trades``' own read of the book: the next trade meets it."""
        try:
            events = [envelope.unwrap(TradesIngested) for envelope in envelopes]
        except ValueError:
            return False
        latest = _latest(events)
        if any(":" in symbol for _, symbol in latest) and self.liquidator is not None:
            return False
        if not latest:
            return True
        return await self.book.set_last_prices_if_idle(
            conn, [(*key, t.price, t.ts_ns) for key, t in latest.items()]
        )

    async def on_trades(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        events: list[TradesIngested] = []
        for envelope in envelopes:
            try:
                events.append(envelope.unwrap(TradesIngested))
            except ValueError as error:
                raise PermanentError(str(error)) from error
        latest = _latest(events)
        if not latest:
            return
        await self.book.set_last_prices(conn, [(*key, t.price, t.ts_ns) for key, t in latest.items()])
        books = self._books(events, await self.book.resting(conn, latest))
        plain = PlainFills(self.ledger, self.schema)
        costs = await self._all_costs(conn, books)
        await self._lock_plain(conn, plain, books, events, costs)
        for event in events:
            book = books.get((event.venue, event.symbol))
            for tick in event.trades if book is not None else ():
                assert book is not None
                await self._on_trade(conn, (event.venue, event.symbol), book, tick, costs, plain=plain)
        await plain.flush(conn)
        if self.liquidator is not None:  # after the batch's fills, in its transaction
            await self.liquidator.on_prices(conn, _ranges(events))

    async def _all_costs(self, conn: AsyncConnection, books: dict[Key, _Resting]) -> dict[Any, AccountCosts]:
        """The costs of every account with an order in the books, read in one statement."""
        accounts = {row.account_id for book in books.values() for row, _ in book.orders.values()}
        if not accounts:
            return {}
        return {
            key: account_costs(row)
            for key, row in (await self.ledger.accounts.get_many(conn, accounts)).items()
        }

    @staticmethod
    async def _lock_plain(
        conn: AsyncConnection,
        plain: PlainFills,
        books: dict[Key, _Resting],
        events: list[TradesIngested],
        costs: dict[Any, AccountCosts],
    ) -> None:
        """Lock, together and in id order, the plain orders some trade of the batch changes (as
        they were read), and put them in the books as they are now (``PlainFills``)."""
        trades: dict[Key, list[Trade]] = {}
        for event in events:
            trades.setdefault((event.venue, event.symbol), []).extend(
                Trade(t.price, t.amount, t.ts_ns) for t in event.trades
            )
        wanted = {
            order_id: key
            for key, book in books.items()
            for order_id, (row, order) in book.orders.items()
            if is_plain(row) and row.status in LIVE and row.account_id in costs
            and any(match(order, t, costs[row.account_id], Decimal(row.lot_size)) for t in trades[key])
        }  # fmt: skip
        if not wanted:
            return
        trade_ids = sorted({t.trade_id for event in events for t in event.trades})
        rows = await plain.lock(conn, list(wanted), trade_ids)
        for order_id, key in wanted.items():
            book = books[key]
            book.locked.add(order_id)
            if order_id in rows:
                book.orders[order_id] = (rows[order_id], paper_order(rows[order_id]))
            else:
                del book.orders[order_id]

    @staticmethod
    def _books(events: list[TradesIngested], resting: dict[Key, list[Row[Any]]]) -> dict[Key, _Resting]:
        """Per symbol with resting orders: the batch's price range and the orders it may reach."""
        books: dict[Key, _Resting] = {}
        for event in events:
            key = (event.venue, event.symbol)
            if key not in resting:
                continue
            for tick in event.trades:
                book = books.setdefault(key, _Resting(tick.price, tick.price, tick.ts_ns))
                book.low, book.high = min(book.low, tick.price), max(book.high, tick.price)
                book.last_ns = max(book.last_ns, tick.ts_ns)
        for key, book in books.items():
            book.keep(resting[key])
        return {key: book for key, book in books.items() if book.orders}

    async def _costs(
        self, conn: AsyncConnection, account_id: Any, cache: dict[Any, AccountCosts]
    ) -> AccountCosts:
        if account_id not in cache:
            account = await self.ledger.accounts.get(conn, str(account_id), None)
            assert account is not None
            cache[account_id] = account_costs(account)
        return cache[account_id]

    async def _on_trade(
        self, conn: AsyncConnection, key: Key, book: _Resting, tick: TradeTick,
        cache: dict[Any, AccountCosts], *, plain: PlainFills,
    ) -> None:  # fmt: skip
        trade = Trade(tick.price, tick.amount, tick.ts_ns)
        for order_id in list(book.orders):
            if order_id not in book.orders:
                continue  # ended by an OCO cascade earlier in this trade
            row, order = book.orders[order_id]
            costs = await self._costs(conn, row.account_id, cache)
            lot = Decimal(row.lot_size)
            outcome = match(order, trade, costs, lot) if row.status in LIVE else None
            if outcome is None:
                continue
            if order_id in book.locked and is_plain(row):  # locked with the batch's plain orders
                with order_span(row):
                    row = plain.take(row, outcome, tick.trade_id, tick.ts_ns)
                book.orders[order_id] = (row, paper_order(row))
                continue
            await plain.flush(conn)  # what the plain fills changed, before anything else writes
            if order_id not in book.locked:  # read under lock: a cancel or amend may have won
                current = await self.ledger.orders.get(conn, str(order_id), None, for_update=True)
                book.locked.add(order_id)
                if current is None:
                    continue
                row, order = current, paper_order(current)
            outcome = match(order, trade, costs, lot)
            if outcome is None:
                book.orders[order_id] = (row, order)
                continue
            if outcome.fill is not None and row.oco_group is not None:  # first fill of an OCO exit
                row = await self.ledger.take_oco_lock(conn, row)
                order = replace(order, locked=Decimal(row.locked))
                outcome = match(order, trade, costs, lot)
                assert outcome is not None
            with order_span(row):
                row = await self._apply(conn, row, outcome, tick.trade_id, tick.ts_ns)
            book.orders[order_id] = (row, paper_order(row))
            if row.oco_group is not None or (is_bracket_entry(row) and row.status in states.TERMINAL):
                # an OCO pair changed or a bracket entry ended (its exits opened): read the book again
                book.keep((await self.book.resting(conn, [key])).get(key, []))

    async def _apply(
        self, conn: AsyncConnection, row: Row[Any], outcome: Outcome, trade_id: str, ts_ns: int
    ) -> Row[Any]:
        fill_event: list[Announcement] = []  # written with the status events in one statement
        if outcome.fill is not None:
            source = fill_source(row, trade_id, ts_ns)
            if not await self.ledger.record_fill(conn, row, outcome.fill, source, fill_event):
                return row  # this trade already filled this order (a replayed batch)
        fields = outcome_fields(row, outcome)
        return await self.ledger.move(conn, row, outcome.statuses, fields, before=fill_event)


def _ranges(events: list[TradesIngested]) -> dict[Key, PriceRange]:
    """Each symbol's lowest and highest trade price in the batch, and its last trade time."""
    ranges: dict[Key, PriceRange] = {}
    for event in events:
        for tick in event.trades:
            low, high, last = ranges.get((event.venue, event.symbol), (tick.price, tick.price, tick.ts_ns))
            ranges[(event.venue, event.symbol)] = (
                min(low, tick.price),
                max(high, tick.price),
                max(last, tick.ts_ns),
            )
    return ranges


ACCOUNT_SCOPE = "account"


def _account_uuid(value: str) -> uuid.UUID | None:
    """An account id of ours, or ``None`` (another service's id cannot name one of our accounts)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class HaltKeeper:
    """Applies ``risk.evt.halt`` / ``resume`` (a user or everyone) and ``account_halt`` /
    ``account_resume`` (one account's emergency stop): stored halts survive restarts; ``flatten``
    closes an account's positions (``flatten.Flattener``)."""

    def __init__(self, ledger: Ledger, flattener: Flattener) -> None:
        self.ledger = ledger
        self.flattener = flattener

    async def on_event(self, conn: AsyncConnection, envelope: Envelope) -> None:
        if envelope.type == RiskHalt.event_type():
            halt = envelope.unwrap(RiskHalt)
            key = halt.user_id or GLOBAL_KEY
            await self.ledger.orders.set_halt(conn, halt.scope, key, halt.reason, envelope.id)
            # exchange accounts' orders are cancelled at their venue by venue_sync
            for row in await self.ledger.orders.open_orders(conn, user_id=halt.user_id, paper_only=True):
                await self.ledger.finish(conn, row, states.CANCELED, "trading_halted")
        elif envelope.type == RiskResume.event_type():
            resume = envelope.unwrap(RiskResume)
            await self.ledger.orders.clear_halt(conn, resume.scope, resume.user_id or GLOBAL_KEY)
        elif envelope.type == RiskAccountHalt.event_type():
            stop = envelope.unwrap(RiskAccountHalt)
            await self.ledger.orders.set_halt(conn, ACCOUNT_SCOPE, stop.account_id, stop.reason, envelope.id)
            account = _account_uuid(stop.account_id)
            if account is not None:  # exchange accounts' orders are cancelled at their venue by venue_sync
                for row in await self.ledger.orders.open_orders(conn, account_id=account, paper_only=True):
                    await self.ledger.finish(conn, row, states.CANCELED, "trading_halted")
        elif envelope.type == RiskAccountResume.event_type():
            lifted = envelope.unwrap(RiskAccountResume)
            await self.ledger.orders.clear_halt(conn, ACCOUNT_SCOPE, lifted.account_id)
        elif envelope.type == RiskFlatten.event_type():
            await self.flattener.on_flatten(conn, envelope)
        # other risk events (alerts, limits) are not the router's business


class Housekeeping:
    """Expires GTD orders when no trade comes, and rejects submissions interrupted before the
    risk check answered (the client never saw them accepted)."""

    def __init__(self, engine: Any, ledger: Ledger, *, interval_s: float, pending_timeout_s: float) -> None:
        self._engine = engine
        self.ledger = ledger
        self.interval_s = interval_s
        self.pending_timeout_s = pending_timeout_s

    async def sweep(self) -> None:
        engine: AsyncEngine = self._engine()
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            for row in await self.ledger.orders.stale_pending(
                conn, now - timedelta(seconds=self.pending_timeout_s)
            ):
                await self.ledger.finish(conn, row, states.REJECTED, "submit_interrupted")
            for row in await self.ledger.orders.expired_open(conn, now):
                await self.ledger.finish(conn, row, states.EXPIRED, "gtd_expired")

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as error:  # the database may be restarting: try again next round
                log.warning("housekeeping failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
