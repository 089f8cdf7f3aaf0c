"""A DCA bot's fill, applied once in the order consumer's transaction under the bot's row lock.

``dca_on_fill`` gives the cycle's new state, the orders to place (recorded ``sending``: the
runner's resend loop sends them, same client id on a retry) and those to cancel (flagged
``cancel_requested``: ``bots.order_cancels`` cancels them at order-router). A redelivered fill, one
of an earlier cycle or of a bot that is no DCA changes nothing; a stopped bot's state still moves
but places nothing.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.strategy_runner.domain.dca_fills import dca_on_fill, parse_dca_client_order_id
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.dca_bots_store import DcaBotsStore, config_of, state_of, units_of


class DcaFills:
    def __init__(self, schema: str) -> None:
        self.bots = BotsStore(schema)
        self.dca = DcaBotsStore(schema)

    async def on_filled(self, conn: AsyncConnection, client_order_id: str, price: Decimal | None) -> None:
        bot_id = bot_of_client_order_id(client_order_id)
        if bot_id is None or price is None or parse_dca_client_order_id(bot_id, client_order_id) is None:
            return
        row = await self.bots.get(conn, bot_id, None, lock=True)
        if row is None or row.kind != "dca":
            return
        tick, lot_size = units_of(row)
        reaction = dca_on_fill(
            bot_id, config_of(row), state_of(row), client_order_id, price, tick=tick, lot_size=lot_size
        )
        if reaction.state == state_of(row):
            return
        await self.dca.set_state(conn, row.id, reaction.state)
        await self.dca.request_cancel(conn, row.id, reaction.cancel)
        if row.status == "running":
            for order in reaction.place:
                await self.dca.add_order(conn, row.id, row.symbol, order)
