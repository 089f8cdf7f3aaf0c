"""The pre-trade check's inputs in memory, so a check answers without a query.

Per account: positions, open and recent orders, the trading day's PnL per bot and the last
end-of-day high-water mark (``store/check_store.py``), plus the last price of every symbol. An
account unknown to memory (first check, a fill just folded, a new trading day) is read from Postgres
by the check itself; after that the orders consumer keeps it current at each commit: order updates
are applied as stored (``order_stored``), a fill, funding payment, liquidation or bot assignment
makes the account unknown again (``forget``: its positions are folded again in Postgres; it is read
again at once, the read waiting for the commit). Marks update the prices. Every ``refresh_s`` the
known accounts and the prices are read again in the background (what another instance or the
end-of-day roll wrote).

A read is versioned: an event applied to the account while it ran makes it be used once and not
kept, and it takes the account's advisory lock shared (``CheckStore``), so it never reads the
database before an event that memory already holds has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import RootTransaction
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.risk_monitor.domain.limits import Exposure
from tradeloom.risk_monitor.store.check_store import AccountSnapshot, CheckStore, OrderSeen
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)
RECENT = timedelta(minutes=2)  # orders created this recently are kept (``max_orders_per_minute``)
EXACT = Context(prec=80)  # as Postgres' numeric: no rounding of products of stored decimals


# effects waiting for each open transaction's commit; an entry goes with its transaction
_ON_COMMIT: WeakKeyDictionary[RootTransaction, list[Callable[[], None]]] = WeakKeyDictionary()


def on_commit(conn: AsyncConnection, effect: Callable[[], None]) -> None:
    """Run ``effect`` when the transaction of ``conn`` commits (just before the COMMIT is sent:
    readers of the database that must not run ahead of it take the account's advisory lock).

    Effects run in the order given, from one listener per transaction (registering a SQLAlchemy
    listener is not cheap, and a batch's transaction registers one or more effects per event)."""
    sync = conn.sync_connection
    assert sync is not None
    transaction = sync.get_transaction()
    if transaction is None:  # not in a transaction: the next commit
        event.listen(sync, "commit", lambda _conn: effect(), once=True)
        return
    effects = _ON_COMMIT.get(transaction)
    if effects is None:
        effects = _ON_COMMIT[transaction] = []

        def run(_conn: object, waiting: list[Callable[[], None]] = effects) -> None:
            ready, waiting[:] = list(waiting), []
            for each in ready:
                each()

        event.listen(sync, "commit", run)
    effects.append(effect)


class CheckState:
    def __init__(self, engine: Callable[[], AsyncEngine], store: CheckStore, refresh_s: float) -> None:
        self._engine = engine
        self.store = store
        self.refresh_s = refresh_s
        self._accounts: dict[str, AccountSnapshot] = {}
        self._versions: dict[str, int] = {}
        self._loading: dict[tuple[str, datetime], asyncio.Task[AccountSnapshot]] = {}
        self.prices: dict[str, tuple[Decimal, int]] = {}  # symbol → (price, ts_ns)
        self._prices_loaded = False  # a snapshot is read with them the first time
        self.reads = 0  # accounts read from Postgres (bench, tests)

    # --- reads ------------------------------------------------------------------------------------
    def known(self, account_id: str, day_start: datetime) -> AccountSnapshot | None:
        snap = self._accounts.get(account_id)
        return snap if snap is not None and snap.day_start == day_start and self._prices_loaded else None

    async def snapshot(self, account_id: str, day_start: datetime) -> AccountSnapshot:
        """The account from memory, else read (checks of the same account share one read)."""
        snap = self.known(account_id, day_start)
        if snap is not None:
            return snap
        task = self._loading.get((account_id, day_start)) or self._start_read(account_id, day_start)
        return await asyncio.shield(task)

    async def _read(self, account_id: str, day_start: datetime) -> AccountSnapshot:
        version = self._versions.get(account_id, 0)
        since = datetime.now(UTC) - RECENT
        async with self._engine().begin() as conn:
            snap = await self.store.snapshot(conn, account_id, day_start, since)
            prices = None if self._prices_loaded else await self.store.prices(conn)
        self.reads += 1
        if prices is not None:
            self._set_prices(prices)
        if self._versions.get(account_id, 0) == version:  # else an event ran meanwhile: used once
            self._accounts[account_id] = snap
        return snap

    async def load_prices(self) -> None:
        async with self._engine().connect() as conn:
            self._set_prices(await self.store.prices(conn))

    def _set_prices(self, prices: dict[str, tuple[Decimal, int]]) -> None:
        for symbol, (price, ts_ns) in prices.items():
            self.set_price(symbol, price, ts_ns)
        self._prices_loaded = True

    # --- events (called at the commit of the transaction that stored them) ------------------------
    def touch(self, account_id: str) -> None:
        """An event of the account is being applied: a read running now is not kept."""
        self._versions[account_id] = self._versions.get(account_id, 0) + 1

    def eod_rolled(self, account_id: str, high_water: Decimal) -> None:
        """The end-of-day roll stored the account's latest high-water mark (the trailing drawdown's
        anchor): a snapshot holding another one, or a read that may predate the roll, is read again."""
        snap = self._accounts.get(account_id)
        if snap is None:
            if any(key[0] == account_id for key in self._loading):
                self.touch(account_id)
        elif snap.high_water != high_water:
            self.forget(account_id)

    def forget(self, account_id: str) -> None:
        """The account is read again, at once if it was known (the read waits for the commit)."""
        self.touch(account_id)
        snap = self._accounts.pop(account_id, None)
        if snap is not None:
            self._prefetch(account_id, snap.day_start)

    def _prefetch(self, account_id: str, day_start: datetime) -> None:
        if (account_id, day_start) not in self._loading:  # else started before: not kept
            self._start_read(account_id, day_start)

    def _start_read(self, account_id: str, day_start: datetime) -> asyncio.Task[AccountSnapshot]:
        key = (account_id, day_start)
        task = asyncio.ensure_future(self._read(account_id, day_start))
        self._loading[key] = task
        task.add_done_callback(lambda done: self._read_done(key, done))
        return task

    def _read_done(self, key: tuple[str, datetime], task: asyncio.Task[AccountSnapshot]) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]
        if not task.cancelled() and task.exception() is not None:
            log.warning("check state read of %s failed: %r", key[0], task.exception())

    def order_stored(self, account_id: str, order_id: str, order: OrderSeen) -> None:
        self.touch(account_id)
        snap = self._accounts.get(account_id)
        if snap is None:
            return
        snap.orders[order_id] = order
        if len(snap.orders) % 64 == 0:  # closed and no longer recent: counted nowhere
            horizon = datetime.now(UTC) - RECENT
            for oid in [
                oid
                for oid, seen in snap.orders.items()
                if not seen.open and (seen.created_at is None or seen.created_at < horizon)
            ]:
                del snap.orders[oid]

    def set_price(self, symbol: str, price: Decimal, ts_ns: int) -> None:
        known = self.prices.get(symbol)
        if known is None or known[1] < ts_ns:
            self.prices[symbol] = (price, ts_ns)

    # --- the check's view -------------------------------------------------------------------------
    def exposure(
        self,
        snap: AccountSnapshot,
        symbol: str,
        exclude: Collection[str],
        minute_ago: datetime,
        bot_id: str | None = None,
    ) -> Exposure:
        """What ``PositionsStore.exposure`` answers from Postgres, from memory (a test compares them)."""
        with localcontext(EXACT):
            quantity, total_pnl, unrealised = Decimal(0), Decimal(0), Decimal(0)
            net: dict[tuple[str, str], Decimal] = {}  # per (symbol, position side): hedge sides add up
            for (sym, bot, side), row in snap.positions.items():
                total_pnl += row.realised_pnl - row.fees
                mark = self.prices.get(sym)
                if mark is not None:
                    unrealised += row.quantity * (mark[0] - row.average_entry)
                if bot_id is not None and bot != bot_id:
                    continue
                if sym == symbol:
                    quantity += row.quantity
                price = row.average_entry if mark is None else mark[0]
                net[(sym, side)] = net.get((sym, side), Decimal(0)) + row.quantity * price
            gross = sum((abs(value) for value in net.values()), Decimal(0))
        open_orders = recent = 0
        for order_id, seen in snap.orders.items():
            if (bot_id is not None and seen.bot_id != bot_id) or order_id in exclude:
                continue
            open_orders += seen.open
            recent += seen.created_at is not None and seen.created_at >= minute_ago
        if bot_id is None:
            day_pnl = sum(snap.day_pnl.values(), Decimal(0))
        else:
            day_pnl = snap.day_pnl.get(bot_id, Decimal(0))
        return Exposure(
            symbol_quantity=quantity,
            open_orders=open_orders,
            gross_exposure=gross,
            day_pnl=day_pnl,
            orders_last_minute=recent,
            total_pnl=total_pnl,
            unrealised=unrealised,
            high_water=snap.high_water,
        )

    # --- background refresh -----------------------------------------------------------------------
    async def refresh(self) -> None:
        await self.load_prices()
        for account_id, snap in list(self._accounts.items()):
            if self._accounts.get(account_id) is snap:
                await self._read(account_id, snap.day_start)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as error:  # Postgres restarting: keep what is known, try again
                log.warning("check state refresh failed: %r", error)
            await wait_for_stop(stop, self.refresh_s)
