"""A bot's own view: its orders, trades (executions), positions and performance.

Only the bot's owner sees them (an unknown id and another user's get the same not_found). They
come from the bot's sub-ledger (``bot_orders``, its tagged orders); positions and PnL are folded
from its executions by ``domain.bot_pnl``, open positions marked at market-data's latest price.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_ledger import (
    BotLedgerPage,
    BotLedgerRef,
    BotOrder,
    BotOrderList,
    BotPerformance,
    BotPosition,
    BotPositions,
    BotTrade,
    BotTradeList,
)
from tradeloom.shared.contracts.market_data import LatestPriceReply, SymbolRequest
from tradeloom.shared.errors import ServiceError, field_invalid, require_user
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.shared.rpc import ServiceClient
from tradeloom.strategy_runner.bots.api_bots import no_bot
from tradeloom.strategy_runner.domain.bot_pnl import ZERO, Book, Execution, books, rounded
from tradeloom.strategy_runner.store.bot_views_store import BotViewsStore
from tradeloom.strategy_runner.store.bots_store import BotsStore

log = logging.getLogger(__name__)


def _cursor(before: str | None) -> tuple[int, str] | None:
    if before is None:
        return None
    bar, _, symbol = before.partition(":")
    if not bar.isdigit() or not symbol:
        raise field_invalid("cursor", "not a cursor this service returned")
    return int(bar), symbol


def _cursor_after(item: BotOrder | BotTrade) -> str:
    """The cursor after ``item``: its bar, then its symbol (the order the store pages in)."""
    return f"{item.bar_ns}:{item.symbol}"


def _order(row: Row[Any]) -> BotOrder:
    return BotOrder(
        client_order_id=row.client_order_id, order_id=row.order_id, symbol=row.symbol, bar_ns=row.bar_ns,
        side=row.side, quantity=row.quantity, filled_quantity=row.filled_quantity,
        average_price=row.average_price, fees=row.fees, status=row.status, created_at=row.created_at,
        executed_at=row.executed_at,
    )  # fmt: skip


def _trade(row: Row[Any]) -> BotTrade:
    return BotTrade(
        client_order_id=row.client_order_id, order_id=row.order_id, symbol=row.symbol, bar_ns=row.bar_ns,
        side=row.side, quantity=row.filled_quantity, price=row.average_price or ZERO, fee=row.fees,
        executed_at=row.executed_at,
    )  # fmt: skip


def _position(symbol: str, book: Book, mark: Decimal | None) -> BotPosition:
    return BotPosition(
        symbol=symbol, quantity=book.quantity,
        average_entry_price=rounded(book.average) if book.quantity != ZERO else None,
        mark_price=mark, realized_pnl=rounded(book.realized), unrealized_pnl=book.unrealized(mark),
    )  # fmt: skip


class BotViewsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], schema: str,
        market_data_timeout_s: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self._timeout_s = market_data_timeout_s
        self.bots = BotsStore(schema)
        self.views = BotViewsStore(schema)

    async def _page(self, caller: CallerContext, body: BotLedgerPage, *, filled_only: bool) -> list[Row[Any]]:
        user_id = require_user(caller)
        before = _cursor(body.cursor)
        async with self._engine().connect() as conn:
            bot = await self.bots.get(conn, body.bot_id, user_id)
            if bot is None:
                raise no_bot(body.bot_id)
            return await self.views.orders_page(
                conn, uuid.UUID(str(bot.id)), fetch_size(body.limit), before, filled_only=filled_only
            )

    async def orders(self, caller: CallerContext, body: BotLedgerPage) -> BotOrderList:
        rows = await self._page(caller, body, filled_only=False)
        items, next_cursor = page_of(rows, body.limit, _order, _cursor_after)
        return BotOrderList(bot_id=body.bot_id, items=items, next_cursor=next_cursor)

    async def trades(self, caller: CallerContext, body: BotLedgerPage) -> BotTradeList:
        rows = await self._page(caller, body, filled_only=True)
        items, next_cursor = page_of(rows, body.limit, _trade, _cursor_after)
        return BotTradeList(bot_id=body.bot_id, items=items, next_cursor=next_cursor)

    async def _books(self, caller: CallerContext, bot_id: str) -> tuple[str, dict[str, Book]]:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            bot = await self.bots.get(conn, bot_id, user_id)
            if bot is None:
                raise no_bot(bot_id)
            rows = await self.views.executions(conn, uuid.UUID(str(bot.id)))
        executions = (
            Execution(r.symbol, r.side, Decimal(r.filled_quantity), Decimal(r.average_price), Decimal(r.fees))
            for r in rows
        )
        return str(bot.venue), books(executions)

    async def _mark(self, caller: CallerContext, venue: str, symbol: str) -> Decimal | None:
        """market-data's latest price, or None when it does not answer (no unrealised PnL then)."""
        try:
            reply = await self._client().call(
                "market-data", "latest_price", SymbolRequest(symbol=symbol, venue=venue), LatestPriceReply,
                caller=caller, timeout_s=self._timeout_s,
            )  # fmt: skip
        except ServiceError as error:
            log.warning("no mark for %s on %s: %s", symbol, venue, error)
            return None
        return Decimal(reply.price)

    async def _marks(
        self, caller: CallerContext, venue: str, held: dict[str, Book]
    ) -> dict[str, Decimal | None]:
        return {
            symbol: await self._mark(caller, venue, symbol) if book.quantity != ZERO else None
            for symbol, book in held.items()
        }

    async def positions(self, caller: CallerContext, body: BotLedgerRef) -> BotPositions:
        venue, held = await self._books(caller, body.bot_id)
        marks = await self._marks(caller, venue, held)
        items = [_position(symbol, book, marks[symbol]) for symbol, book in sorted(held.items())]
        return BotPositions(bot_id=body.bot_id, items=items)

    async def performance(self, caller: CallerContext, body: BotLedgerRef) -> BotPerformance:
        venue, held = await self._books(caller, body.bot_id)
        marks = await self._marks(caller, venue, held)
        unrealized = [book.unrealized(marks[symbol]) for symbol, book in held.items()]
        open_pnl = None if None in unrealized else sum((u for u in unrealized if u is not None), ZERO)
        realized = sum((b.realized for b in held.values()), ZERO)
        fees = sum((b.fees for b in held.values()), ZERO)
        trips = sum(b.round_trips for b in held.values())
        wins = sum(b.wins for b in held.values())
        volume = sum((b.volume for b in held.values()), ZERO)
        return BotPerformance(
            bot_id=body.bot_id, realized_pnl=rounded(realized), unrealized_pnl=open_pnl, fees=fees,
            net_pnl=rounded(realized + (open_pnl or ZERO) - fees),
            executions=sum(b.executions for b in held.values()), round_trips=trips, winning_round_trips=wins,
            win_rate=wins / trips if trips else None, volume=rounded(volume),
        )  # fmt: skip
