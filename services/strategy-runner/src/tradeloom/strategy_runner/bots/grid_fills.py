"""A grid bot's fill, applied once in the order consumer's transaction under the bot's row lock.

The filled order's lot moves (``grid_bot.on_fill``) and its one replacement is recorded in
``bot_orders`` as ``sending``: the runner's resend loop sends it (same client id, so a retry gets
the original order). A redelivered fill, one of an earlier generation or of a bot that is no grid
changes nothing; a stopped bot's lots still move but place nothing (its next start does).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.strategy_runner.domain.grid_bot import on_fill, parse_grid_client_order_id
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.grid_bots_store import GridBotsStore, config_of, lots_of, prices_of


class GridFills:
    def __init__(self, schema: str) -> None:
        self.bots = BotsStore(schema)
        self.grid = GridBotsStore(schema)

    async def on_filled(self, conn: AsyncConnection, client_order_id: str) -> None:
        bot_id = bot_of_client_order_id(client_order_id)
        if bot_id is None or parse_grid_client_order_id(bot_id, client_order_id) is None:
            return
        row = await self.bots.get(conn, bot_id, None, lock=True)
        if row is None or row.kind != "grid":
            return
        lots, order = on_fill(bot_id, config_of(row), prices_of(row), lots_of(row), client_order_id)
        if order is None:
            return
        await self.grid.set_lots(conn, row.id, lots)
        if row.status == "running":
            await self.grid.add_order(conn, row.id, row.symbol, order, lots[order.lot].cycle)
