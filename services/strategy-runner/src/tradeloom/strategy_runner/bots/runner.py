"""The bot runner: closed candles → each running bot's decision → an order to order-router.

A closed candle marks its market's newest bar (``bar_marks``) and is decided at once, in a task
of its market (``bots.market_tasks``), for the bots trading that market (one of their symbols:
each symbol of a bot is decided on its own) whose lease this replica holds or can take: their
bars are read once for all of them (``bots.market_history``: a window per market kept from the
candle stream), the signal computed once per strategy, and every bot's decision and order run
side by side. A loop renews and takes over leases
(a dead replica's bots come to a live one when their lease expires), catches leased bots up to
their market's newest bar (a candle another replica consumed, one missed while down) and resends
orders recorded but never answered (same ``client_order_id``: order-router answers the original).
A market's orders of one candle go to order-router together, one batch per owner
(``bots.order_sender``).

A decision is one transaction under the bot's row lock: the bar is checked against
``last_bar_ns`` and the order row is unique per (bot, symbol, bar), so a redelivered candle, two
replicas or a restart can never send a second order for one bar.

A user-code strategy's signals come from sandbox-executor, once per evaluation over all the bars
it decides (``bots.code_signals``); an error, a time-out or a bad answer of the user's code stops
the bot (status ``error``) with a ``failed`` decision naming it, and never reaches this process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data import CandleClosed
from tradeloom.shared.db import connection_lost
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError, Unavailable
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.user_code import SandboxLimits, UserCodeFailed
from tradeloom.strategy_runner.bots.bar_decision import decide_bar, wants_entry_size
from tradeloom.strategy_runner.bots.candle_batch import CandleBatch
from tradeloom.strategy_runner.bots.code_signals import CodeSignals
from tradeloom.strategy_runner.bots.events import decision_made
from tradeloom.strategy_runner.bots.exit_orders import ExitOrders
from tradeloom.strategy_runner.bots.market_history import Market, MarketHistory
from tradeloom.strategy_runner.bots.market_tasks import MarketTasks
from tradeloom.strategy_runner.bots.order_sender import OrderSender
from tradeloom.strategy_runner.bots.order_to_send import OrderToSend
from tradeloom.strategy_runner.bots.signal_memo import Memo, may_trade, memo_signal
from tradeloom.strategy_runner.bots.sizing import Sizer, SizingUnavailable
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.store.bot_exits_store import BotExitsStore
from tradeloom.strategy_runner.store.bot_ledger_store import BotLedgerStore
from tradeloom.strategy_runner.store.bots_store import BotsStore

log = logging.getLogger(__name__)
DEFAULT_SANDBOX = SandboxLimits(time_limit_s=10.0, memory_mb=256)
DECISION_SLOTS = 6  # decisions in the database at once: the pool (5 + 5) keeps room for the consumers


@dataclass(frozen=True)
class RunnerConfig:
    lease_ttl_s: float
    tick_s: float
    history_bars: int
    market_data_timeout_s: float
    order_timeout_s: float
    sandbox: SandboxLimits = DEFAULT_SANDBOX


class BotRunner:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox],
        *,
        schema: str,
        owner: str,
        config: RunnerConfig,
    ) -> None:
        self._engine = engine
        self._client = client
        self._outbox = outbox
        self.bots = BotsStore(schema)
        self.ledger = BotLedgerStore(schema)
        self.owner = owner
        self.config = config
        self.sizer = Sizer(client, config.market_data_timeout_s)
        self.code = CodeSignals(client, config.sandbox)
        self.exits = ExitOrders(engine, client, schema=schema, timeout_s=config.order_timeout_s)
        self.exit_rows = BotExitsStore(schema)
        self.history = MarketHistory(
            client, count=config.history_bars, timeout_s=config.market_data_timeout_s
        )
        self.markets = MarketTasks()
        self._slots = asyncio.Semaphore(DECISION_SLOTS)
        self.candle = CandleBatch(
            engine, outbox, schema=schema, bots=self.bots, owner=owner, slots=self._slots
        )
        self.sender = OrderSender(
            engine, client, outbox, bots=self.bots, ledger=self.ledger, exits=self.exits,
            timeout_s=config.order_timeout_s,
        )  # fmt: skip

    # ----------------------------------------------------------------------------- the candle
    async def on_candle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        """Mark the market's newest bar (with the inbox claim) and queue its decisions."""
        try:
            candle = envelope.unwrap(CandleClosed)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        await self.ledger.mark_bar(conn, candle.venue, candle.symbol, candle.timeframe, candle.open_ns)
        prices = (candle.open, candle.high, candle.low, candle.close, candle.volume)
        bar = Bar(candle.open_ns, *(float(value) for value in prices))
        market = (candle.venue, candle.symbol, candle.timeframe)
        self.history.push(market, bar)
        self.markets.schedule(market, lambda: self.decide_market(market, candle.open_ns, bar))

    async def decide_market(self, market: Market, upto_ns: int, bar: Bar | None) -> None:
        """The market's bots on one candle: their leases, the bars read once for all of them, the
        signal computed once per strategy; the bots whose decision needs only the database decided
        in one transaction (``bots.candle_batch``) and their orders sent, the others (user code, a
        catch-up, an entry sized from the balance) side by side, each in its own transaction."""
        async with self._engine().begin() as lease_conn:
            held = await self.bots.take_leases(lease_conn, self.owner, self.config.lease_ttl_s, market)
        if not held:
            return
        try:
            await self.history.bars(market, upto_ns, bar)  # one fetch (or none) for the market's bots
        except (RemoteError, Unavailable) as error:
            log.warning("no history of %s up to bar %s: %s", market, upto_ns, error)
            return  # not decided: the loop tries again from the bar mark
        bars = self.history.newest(*market, upto_ns)
        memo: Memo = {}
        sending: asyncio.Task[None] | None = None
        rest: list[Row[Any]] = []
        try:
            if bars:  # else (the fetch did not list the bar) every bot on its own
                orders, rest = await self.candle.decide(held, market[1], bars, memo)
                if orders:
                    sending = asyncio.create_task(self.sender.send_batch(orders))
        except DBAPIError as error:  # a deadlock, a conflict: rolled back, each bot on its own
            if connection_lost(error):
                raise
            log.warning("the bots of %s not decided together on bar %s: %r", market, upto_ns, error)
            bars = None
        if not bars:
            async with self._slots, self._engine().connect() as conn:
                rest = await self.bots.get_many(conn, held, market[1])  # each bot's row of this symbol
        try:
            await self._each_on_its_own(market, upto_ns, bar, rest, bars=bars, memo=memo)
        finally:
            if sending is not None:
                await sending

    async def _each_on_its_own(
        self, market: Market, upto_ns: int, bar: Bar | None, rows: list[Row[Any]], *,
        bars: list[Bar] | None, memo: Memo,
    ) -> None:  # fmt: skip
        """Bots decided each in its own transaction, side by side, those likely to trade first."""
        first = {row.id for row in rows if may_trade(row, bars, upto_ns, memo)}
        trading, holding = [r for r in rows if r.id in first], [r for r in rows if r.id not in first]
        for group in (trading, holding):  # the orders first: the holds' bookkeeping waits for them
            if not group:
                continue
            orders: list[OrderToSend] = []  # the group's orders, sent together once all are decided
            results = await asyncio.gather(
                *(
                    self.evaluate(row.id, row.symbol, upto_ns, bar, memo=memo, row=row, batch=orders)
                    for row in group
                ),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, Exception):
                    log.warning("a bot of %s not decided on bar %s: %r", market, upto_ns, result)
            if orders:
                await self.sender.send_batch(orders)

    # ------------------------------------------------------------------------------- the loop
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (OSError, Unavailable) as error:  # the database or NATS away: try again
                log.warning("bot runner tick failed: %s", error)
            if await wait_for_stop(stop, self.config.tick_s):
                break
        await self.markets.cancel_all()
        try:
            async with self._engine().begin() as conn:
                await self.bots.release_leases(conn, self.owner)
        except OSError as error:
            log.warning("could not release bot leases: %s", error)

    async def tick(self) -> None:
        async with self._engine().begin() as conn:
            await self.bots.take_leases(conn, self.owner, self.config.lease_ttl_s)
            behind = await self.ledger.behind(conn, self.owner)
            await self.exit_rows.withdraw_unsent_exits(conn, self.owner)
            unsent = await self.ledger.unsent_orders(
                conn, self.owner, older_than_s=2 * self.config.order_timeout_s
            )
        for row in behind:
            if not self.markets.busy((row.venue, row.symbol, row.timeframe)):  # else its task decides
                await self.evaluate(row.id, row.symbol, row.open_ns, None)
        for order in unsent:
            async with self._engine().connect() as conn:
                bot = await self.bots.get(conn, str(order.bot_id), None)
            if bot is not None:  # its type, prices and exit levels sent again as recorded
                await self.sender.send(OrderToSend.recorded(bot, order))

    # ---------------------------------------------------------------------------- the decision
    async def evaluate(
        self, bot_id: uuid.UUID, symbol: str, upto_ns: int, bar: Bar | None, *,
        memo: Memo | None = None, row: Row[Any] | None = None, batch: list[OrderToSend] | None = None,
    ) -> None:  # fmt: skip
        """Decide, in order and once each, every closed bar of the bot's ``symbol`` after its last
        decided one up to ``upto_ns`` (a symbol never decided starts at ``upto_ns``); each order
        is sent after its decision commits (the last one added to ``batch`` instead, given one: the
        caller sends it with its market's other orders, ``OrderSender.send_batch``). Each symbol of
        a bot is decided on its own: its row (``bots.get(symbol=…)``) carries that symbol's last
        bar, position and open orders."""
        if row is None:
            async with self._slots, self._engine().connect() as conn:
                row = await self.bots.get(conn, str(bot_id), None, symbol=symbol)
        if row is None or row.status != "running" or (row.last_bar_ns or -1) >= upto_ns:
            return
        try:
            bars = await self.history.bars((row.venue, row.symbol, row.timeframe), upto_ns, bar)
        except (RemoteError, Unavailable) as error:
            log.warning("bot %s: no history up to bar %s: %s", bot_id, upto_ns, error)
            return  # not decided: the loop tries again from the bar mark
        names = None
        if bars:  # user code, a graph's Python indicators: every bar's signal from one sandbox run
            try:
                names = await self.code.of_bot(row, bars)
            except UserCodeFailed as error:
                await self._code_failed(bot_id, symbol, bars[-1].open_ns, str(error))
                return
            except (RemoteError, Unavailable) as error:
                log.warning("bot %s: no signals from the sandbox for bar %s: %s", bot_id, upto_ns, error)
                return  # not decided: the loop tries again
        after = upto_ns - 1 if row.last_bar_ns is None else row.last_bar_ns
        ends = [j + 1 for j, b in enumerate(bars) if b.open_ns > after] or [0]
        for end in ends:
            signal = None if names is None or end == 0 else names[end - 1]
            order = await self._decide_locked(bot_id, symbol, bars[:end], upto_ns, signal=signal, memo=memo)
            if order is not None and batch is not None and end == ends[-1]:
                batch.append(order)
            elif order is not None:
                await self.sender.send(order)

    async def _code_failed(self, bot_id: uuid.UUID, symbol: str, bar_ns: int, reason: str) -> None:
        """The user's code failed on this bar: log it as the bar's decision and stop the bot."""
        reason = reason[:1000]
        async with self._engine().begin() as conn:
            row = await self.bots.get(conn, str(bot_id), None, lock=True, symbol=symbol)
            if row is None or row.status != "running" or (row.last_bar_ns or -1) >= bar_ns:
                return
            if not await self.bots.holds_lease(conn, bot_id, self.owner):
                return
            logged = await self.ledger.add_decision(
                conn, row.id, bar_ns, signal="none", action="failed", reason=reason, symbol=symbol
            )
            await decision_made(conn, self._outbox(), row.user_id, logged)
            await self.sender.stop_in_error(conn, str(bot_id), reason)

    async def _decide_locked(
        self, bot_id: uuid.UUID, symbol: str, bars: list[Bar], upto_ns: int, *,
        signal: str | None = None, memo: Memo | None = None,
    ) -> OrderToSend | None:  # fmt: skip
        """One bar's decision under the bot's row lock; re-checked there (status, lease, bar)."""
        bar_ns = bars[-1].open_ns if bars else upto_ns
        try:
            async with self._slots, self._engine().begin() as conn:
                row = await self.bots.get(conn, str(bot_id), None, lock=True, symbol=symbol)
                if row is None or row.status != "running" or (row.last_bar_ns or -1) >= bar_ns:
                    return None
                if not await self.bots.holds_lease(conn, bot_id, self.owner):
                    return None
                if signal is None and bars:
                    signal = memo_signal(row, bars, memo)
                return await self._decide(conn, row, bar_ns, bars, signal)
        except SizingUnavailable as error:  # rolled back, bar not decided: the loop retries
            log.warning("bot %s: cannot size bar %s yet: %s", bot_id, bar_ns, error)
            return None

    async def _decide(
        self, conn: AsyncConnection, row: Row[Any], bar_ns: int, bars: list[Bar], signal: str | None
    ) -> OrderToSend | None:
        await self.ledger.set_last_bar(conn, row.id, row.symbol, bar_ns)
        if not bars:
            logged = await self.ledger.add_decision(
                conn, row.id, bar_ns, signal="none", action="failed", reason="bar not in history",
                symbol=row.symbol,
            )  # fmt: skip
            await decision_made(conn, self._outbox(), row.user_id, logged)
            return None
        signal = signal or "none"
        quantity = Decimal(0)
        if wants_entry_size(row, signal):
            quantity = await self.sizer.quantity(row, Decimal(str(bars[-1].close)))
        planned = decide_bar(row, signal, bar_ns, quantity)
        decision, client_id = planned.decision, planned.client_id
        if client_id is None or decision.quantity is None:
            logged = await self.ledger.add_decision(
                conn, row.id, bar_ns, signal=signal, action="hold", reason=decision.reason, symbol=row.symbol
            )
            await decision_made(conn, self._outbox(), row.user_id, logged)
            return None
        stop_loss, take_profit, trailing = None, None, None
        if decision.action == "buy":  # its exits' levels are recorded with it (a bracket: sent with it)
            stop_loss, take_profit, trailing = await self.exits.levels(row, Decimal(str(bars[-1].close)))
        if not await self.ledger.add_order(
            conn,
            bot_id=row.id,
            symbol=row.symbol,
            bar_ns=bar_ns,
            client_id=client_id,
            side=decision.action,
            quantity=decision.quantity,
            stop_loss=stop_loss,
            take_profit=take_profit,
            trailing_percent=trailing,
        ):
            return None  # this bar already has its order
        resting = []
        if decision.action == "sell":  # the strategy's exit: the resting exits go first
            resting = [
                (r.client_order_id, r.order_id)
                for r in await self.exit_rows.flag_open_exits(conn, row.id, row.symbol)
            ]
        await self.ledger.add_decision(
            conn,
            row.id,
            bar_ns,
            signal=signal,
            action=decision.action,
            reason=decision.reason,
            quantity=decision.quantity,
            client_id=client_id,
            symbol=row.symbol,
        )
        return OrderToSend(
            row.user_id, row.account_id, row.symbol, client_id, decision.action, decision.quantity,
            stop_loss=stop_loss, take_profit=take_profit, cancel_first=tuple(resting),
            trailing_percent=trailing,
        )  # fmt: skip
