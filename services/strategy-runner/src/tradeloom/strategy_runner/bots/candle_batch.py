"""A market's bots on one candle decided in one transaction (issue 13: the minute's burst).

At a minute's turn every bot of a market decides the same bar. Deciding each in its own
transaction (``BotRunner._decide_locked``) costs ~9 database round trips a bot, and the bots of
all markets queue for the few database slots; here the market's bots whose decision needs nothing
but the database are decided together: one transaction takes their row locks (in id order) with
their leases, reads their rows under the locks, decides each (the same ``decide`` on the same
signal, computed once per strategy) and writes every last bar, order and decision in one
statement (``store/candle_decisions_store.py``), the holds' ``decision_made`` events in one insert.

Everything that needs another service stays on the per-bot path, decided right after this commits:
user code and a graph's Python indicators (the sandbox), a catch-up of several bars, and an entry
sized from the account's balance or fixing exit levels on the instrument's tick (market-data,
order-router). ``decide`` answers those as ``deferred``. Exactly-once is the per-bot rules': status,
lease and ``last_bar_ns`` checked under the row lock, the ``(bot, symbol, bar)`` key and client id
unique, the orders sent only after the commit (a crash before it decided nothing; after it, the
orders are ``sending`` and the resend loop sends them with their client ids).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.contracts.bots import BotDecisionMade
from tradeloom.shared.envelope import Event
from tradeloom.shared.outbox import Outbox
from tradeloom.strategy_runner.bots.bar_decision import decide_bar, wants_entry_size
from tradeloom.strategy_runner.bots.events import decision_of
from tradeloom.strategy_runner.bots.order_to_send import OrderToSend
from tradeloom.strategy_runner.bots.signal_memo import Memo, memo_signal
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.domain.bot_exits import exit_settings
from tradeloom.strategy_runner.domain.exit_plan import bracket_trailing_percent, needs_levels
from tradeloom.strategy_runner.domain.graph_bot_signals import python_outputs
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.candle_decisions_store import CandleDecisionsStore, Planned


def batchable(row: Row[Any], bars: Sequence[Bar] | None, upto_ns: int) -> bool:
    """The bot's decision on ``upto_ns`` is this one bar, its signal computed here (a strategy bot,
    not user code, no Python indicator): the market's ``bars`` end at that bar and the bot decided
    the one before (or never decided this symbol)."""
    if row.kind != "strategy" or row.code is not None or python_outputs(row.graph):
        return False  # a grid or DCA ladder, user code, a graph's Python indicators: not here
    if not bars or bars[-1].open_ns != upto_ns:
        return False
    return row.last_bar_ns is None or len(bars) < 2 or row.last_bar_ns >= bars[-2].open_ns


def entry_needs_io(row: Row[Any]) -> bool:
    """An entry of this bot asks another service: a balance-sized quantity, or exit levels on the
    instrument's tick."""
    return row.sizing["kind"] != "fixed" or needs_levels(exit_settings(row.graph))


class CandleBatch:
    def __init__(
        self, engine: Callable[[], AsyncEngine], outbox: Callable[[], Outbox], *, schema: str,
        bots: BotsStore, owner: str, slots: asyncio.Semaphore,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._outbox = outbox
        self.bots = bots
        self.store = CandleDecisionsStore(schema)
        self.owner = owner
        self._slots = slots

    async def decide(
        self, bot_ids: Sequence[Any], symbol: str, bars: list[Bar], memo: Memo
    ) -> tuple[list[OrderToSend], list[Row[Any]]]:
        """Decide the bots on ``bars[-1]`` (their rows of ``symbol``): the orders to send once this
        returns (committed), and the rows left to the per-bot path (``deferred``). A bot not
        running, not leased here, or past the bar is neither."""
        bar_ns = bars[-1].open_ns
        async with self._slots, self._engine().begin() as conn:
            leased = await self.store.lock(conn, sorted(bot_ids), self.owner)
            rows = await self.bots.get_many(conn, sorted(leased), symbol)
            plans: list[Planned] = []
            deferred: list[Row[Any]] = []
            for row in rows:
                if row.status != "running" or (row.last_bar_ns or -1) >= bar_ns:
                    continue
                if not batchable(row, bars, bar_ns):
                    deferred.append(row)
                    continue
                plan = self._plan(row, bars, memo)
                if plan is None:
                    deferred.append(row)
                else:
                    plans.append(plan)
            if not plans:
                return [], deferred
            logged = await self.store.write(conn, symbol, bar_ns, plans)
            by_bot = {row.id: row for row in rows}
            sells = [d.bot_id for d in logged if d.action == "sell"]
            resting = await self.store.flag_open_exits(conn, sells, symbol) if sells else {}
            holds = [d for d in logged if d.action == "hold"]
            if holds:
                events: list[tuple[Event, Sequence[str], dict[str, Any]]] = [
                    (BotDecisionMade(bot_id=str(d.bot_id), user_id=by_bot[d.bot_id].user_id,
                                     decision=decision_of(d)), (str(d.bot_id),), {})
                    for d in holds
                ]  # fmt: skip
                await self._outbox().add_many(conn, events)
        planned = {p.client_id: p for p in plans if p.client_id is not None}
        orders = [
            self._order(by_bot[d.bot_id], planned[d.client_order_id], tuple(resting.get(d.bot_id, ())))
            for d in logged
            if d.client_order_id is not None
        ]
        return orders, deferred

    @staticmethod
    def _plan(row: Row[Any], bars: list[Bar], memo: Memo) -> Planned | None:
        """The bot's decision (``decide_bar``, as on the per-bot path), or None: an entry that asks
        another service for its size or exit levels (left to the per-bot path)."""
        signal = memo_signal(row, bars, memo)
        quantity = Decimal(0)
        if wants_entry_size(row, signal):
            if entry_needs_io(row):
                return None
            quantity = Decimal(row.sizing["quantity"])
        planned = decide_bar(row, signal, bars[-1].open_ns, quantity)
        decision = planned.decision
        if planned.client_id is None:
            return Planned(row.id, signal, "hold", decision.reason)
        trailing = bracket_trailing_percent(exit_settings(row.graph)) if decision.action == "buy" else None
        return Planned(
            row.id, signal, decision.action, decision.reason, decision.quantity, planned.client_id,
            decision.action, trailing_percent=trailing,
        )  # fmt: skip

    @staticmethod
    def _order(row: Row[Any], plan: Planned, cancel_first: tuple[tuple[str, str], ...]) -> OrderToSend:
        assert plan.client_id is not None and plan.side is not None and plan.quantity is not None
        return OrderToSend(
            row.user_id, row.account_id, row.symbol, plan.client_id, plan.side, plan.quantity,
            cancel_first=cancel_first, trailing_percent=plan.trailing_percent,
        )  # fmt: skip
