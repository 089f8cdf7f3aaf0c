"""Grid bot operations: create (checked against the market), get, start (the resting ladder),
stop (its open orders cancelled). A grid bot is a ``bots`` row of kind ``grid``: it shares the
leases, the resend loop, the sub-ledger views, the halts and the status events of the bots.

Start and stop change the status under the bot's row lock with the orders in the same
transaction: start records the ladder's limit orders (``sending``; the runner's resend loop sends
them), stop withdraws the unsent ones and then cancels at order-router those it holds (a stop is
repeatable: stopping a stopped bot cancels what is still open).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.contracts.grid_bots import REQUESTS, GridBotCreate, GridBotInfo, GridLotInfo
from tradeloom.shared.contracts.orders import OrderInfo, OrderRef
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.errors import Conflict, ValidationFailed, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import Operation, RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.bots.api_bots import TRANSITIONS, no_bot
from tradeloom.strategy_runner.bots.events import status_changed
from tradeloom.strategy_runner.bots.grid_market import GridMarketSource
from tradeloom.strategy_runner.domain.grid_bot import (
    GridConfig,
    grid_levels,
    grid_problems,
    new_lots,
    next_generation,
    resting_orders,
)
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.grid_bots_store import GridBotsStore, config_of, lots_of, prices_of


def grid_bot_info(row: Row[Any]) -> GridBotInfo:
    prices = prices_of(row)
    config = config_of(row)
    lots = [
        GridLotInfo(
            index=lot.index, buy_price=prices[lot.index], sell_price=prices[lot.index + 1],
            holding=lot.holding, cycle=lot.cycle,
        )
        for lot in lots_of(row)
    ]  # fmt: skip
    return GridBotInfo(
        bot_id=str(row.id), name=row.name, account_id=row.account_id, venue=row.venue, symbol=row.symbol,
        lower=config.lower, upper=config.upper, levels=config.levels,
        quantity_per_level=config.quantity_per_level, status=row.status, status_reason=row.status_reason,
        position=plain(Decimal(row.position)), lots=lots, created_at=row.created_at,
        updated_at=row.updated_at,
    )  # fmt: skip


class GridBotsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox],
        schema: str,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self._outbox = outbox
        self.bots = BotsStore(schema)
        self.grid = GridBotsStore(schema)
        self.market = GridMarketSource(client, timeout_s)

    async def create(self, caller: CallerContext, body: GridBotCreate) -> GridBotInfo:
        user_id = require_user(caller)
        config = GridConfig(body.lower, body.upper, body.levels, body.quantity_per_level)
        market = await self.market.market(caller, body.account_id, body.venue, body.symbol)
        problems = grid_problems(
            config, tick=market.tick, lot_size=market.lot_size, price=market.price,
            free_quote=market.free_quote,
        )  # fmt: skip
        if problems:
            raise ValidationFailed(
                "; ".join(f"{p.field}: {p.message}" for p in problems),
                details={
                    "fields": [{"field": p.field, "message": p.message, "rule": p.rule} for p in problems]
                },
            )
        bot_id = new_event_id()
        async with self._engine().begin() as conn:
            await self.grid.create(
                conn, bot_id, user_id=user_id, name=body.name, account_id=body.account_id,
                venue=body.venue, symbol=body.symbol, config=config, prices=grid_levels(config, market.tick),
                lots=new_lots(config),
            )  # fmt: skip
            await status_changed(
                conn, self._outbox(), bot_id, user_id=user_id, status="stopped", previous=None,
                reason="created",
            )  # fmt: skip
            row = await self._row(conn, bot_id, user_id)
        return grid_bot_info(row)

    async def get(self, caller: CallerContext, body: BotRef) -> GridBotInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self._row(conn, body.bot_id, user_id)
        return grid_bot_info(row)

    async def start(self, caller: CallerContext, body: BotRef) -> GridBotInfo:
        """Running, with the ladder at the last trade's price recorded for the resend loop."""
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            found = await self._row(conn, body.bot_id, user_id)
        price = await self.market.price(found.venue, found.symbol)
        async with self._engine().begin() as conn:
            row = await self._row(conn, body.bot_id, user_id, lock=True)
            self._allowed(row, "start")
            lots = lots_of(row)
            if await self.grid.has_orders(conn, row.id):
                lots = next_generation(lots)
                await self.grid.set_lots(conn, row.id, lots)
            for order in resting_orders(body.bot_id, config_of(row), prices_of(row), lots, price):
                await self.grid.add_order(conn, row.id, row.symbol, order, lots[order.lot].cycle)
            row = await self._set_status(conn, row, user_id, "running", "start")
        return grid_bot_info(row)

    async def stop(self, caller: CallerContext, body: BotRef) -> GridBotInfo:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._row(conn, body.bot_id, user_id, lock=True)
            self._allowed(row, "stop")
            open_ids = await self.grid.withdraw_unsent(conn, row.id)
            row = await self._set_status(conn, row, user_id, "stopped", "stop")
        for order_id in open_ids:
            try:
                await self._client().call(
                    "order-router", "orders_cancel", OrderRef(order_id=order_id), OrderInfo, caller=caller
                )
            except RemoteError as error:
                if error.code not in ("not_found", "conflict"):  # gone or already done: nothing rests
                    raise
        async with self._engine().connect() as conn:
            row = await self._row(conn, body.bot_id, user_id)
        return grid_bot_info(row)

    async def _row(self, conn: AsyncConnection, bot_id: str, user_id: str, *, lock: bool = False) -> Row[Any]:
        row = await self.bots.get(conn, bot_id, user_id, lock=lock)
        if row is None or row.kind != "grid":
            raise no_bot(bot_id)
        return row

    @staticmethod
    def _allowed(row: Row[Any], op: str) -> None:
        if row.status not in TRANSITIONS[op][0]:
            raise Conflict(f"cannot {op} a {row.status} bot", details={"status": row.status})

    async def _set_status(
        self, conn: AsyncConnection, row: Row[Any], user_id: str, status: str, op: str
    ) -> Row[Any]:
        if row.status != status:
            await self.bots.set_status(conn, row.id, status, "", from_mark=False)
            await status_changed(
                conn, self._outbox(), str(row.id), user_id=user_id, status=status, previous=row.status,
                reason=op,
            )  # fmt: skip
        return await self._row(conn, str(row.id), user_id)


def register(runtime: ServiceRuntime, api: GridBotsApi) -> None:
    """Every operation of ``contracts.grid_bots.REQUESTS``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "grid_bots_create": api.create,
        "grid_bots_get": api.get,
        "grid_bots_start": api.start,
        "grid_bots_stop": api.stop,
    }
    for contract in REQUESTS:
        runtime.add_operation(
            Operation(
                contract.op, contract.request, contract.reply, handlers[contract.op], contract.description
            )
        )
