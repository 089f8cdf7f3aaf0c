"""Grid bot operations: create (checked against the market), get, start (the resting ladder),
stop (its open orders cancelled). A grid bot is a ``bots`` row of kind ``grid``: it shares the
leases, the resend loop, the sub-ledger views, the halts and the status events of the bots.

An update of a running or paused bot's ladder waits in ``pending_config`` (its orders and lots
untouched); the start places it (``kind_bot_config.py``). Start and stop change the status under
the bot's row lock with the orders in the same transaction: start records the ladder's limit orders
(``sending``; the runner's resend loop sends them), stop withdraws the unsent ones and then cancels
at order-router those it holds (a stop is repeatable: stopping a stopped bot cancels what is still
open).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.contracts.grid_bots import (
    REQUESTS,
    GridBotCreate,
    GridBotInfo,
    GridBotUpdate,
    GridLotInfo,
    GridPendingConfig,
)
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.errors import require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.bots.bot_risk_limits import risk_limits_of
from tradeloom.strategy_runner.bots.grid_market import GridMarket
from tradeloom.strategy_runner.bots.kind_bot_config import KindBotConfig, KindConfig
from tradeloom.strategy_runner.bots.kind_bots_api import KindBotsApi, refuse_problems, register_kind
from tradeloom.strategy_runner.domain.grid_bot import (
    GridConfig,
    Lot,
    Problem,
    grid_levels,
    grid_problems,
    new_lots,
    next_generation,
    resting_orders,
)
from tradeloom.strategy_runner.store.grid_bots_store import config_of, lots_of, prices_of

LADDER = ("lower", "upper", "levels", "quantity_per_level")


def _problems(config: GridConfig, market: GridMarket) -> list[Problem]:
    return grid_problems(
        config, tick=market.tick, lot_size=market.lot_size, price=market.price, free_quote=market.free_quote
    )


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
        updated_at=row.updated_at, risk_limits=risk_limits_of(row),
        pending_config=None if row.pending_config is None else GridPendingConfig.model_validate(
            {name: row.pending_config[name] for name in LADDER}
        ),
    )  # fmt: skip


class GridBotsApi(KindBotsApi):
    kind = "grid"

    def info(self, row: Row[Any]) -> GridBotInfo:
        return grid_bot_info(row)

    async def create(self, caller: CallerContext, body: GridBotCreate) -> GridBotInfo:
        user_id = require_user(caller)
        config = GridConfig(body.lower, body.upper, body.levels, body.quantity_per_level)
        market = await self.market.market(caller, body.account_id, body.venue, body.symbol)
        refuse_problems(_problems(config, market))
        bot_id = new_event_id()

        async def insert(conn: AsyncConnection) -> None:
            await self.orders.create(
                conn, bot_id, user_id=user_id, name=body.name, account_id=body.account_id,
                venue=body.venue, symbol=body.symbol, config=config, prices=grid_levels(config, market.tick),
                lots=new_lots(config),
            )  # fmt: skip

        return grid_bot_info(await self._create(caller, bot_id, body.account_id, body.risk_limits, insert))

    async def start(self, caller: CallerContext, body: BotRef) -> GridBotInfo:
        """Running, with the ladder at the last trade's price recorded for the resend loop."""
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            found = await self._row(conn, body.bot_id, user_id)
        price = await self.market.price(found.venue, found.symbol)
        async with self._engine().begin() as conn:
            row = await self._row(conn, body.bot_id, user_id, lock=True)
            self._allowed(row, "start")
            row = await self._config().apply_pending(conn, row, self._kind())
            lots = lots_of(row)
            if await self.orders.has_orders(conn, row.id):
                lots = next_generation(lots)
                await self.orders.set_lots(conn, row.id, lots)
            for order in resting_orders(body.bot_id, config_of(row), prices_of(row), lots, price):
                await self.orders.add_order(conn, row.id, row.symbol, order, lots[order.lot].cycle)
            row = await self._set_status(conn, row, user_id, "running", "start")
        return grid_bot_info(row)

    def _config(self) -> KindBotConfig:
        return KindBotConfig(self, self.bots.s)

    def _kind(self) -> KindConfig:
        return KindConfig(LADDER, config_of, _problems, self._store_ladder)

    async def _store_ladder(
        self, conn: AsyncConnection, row: Row[Any], new: GridConfig, tick: Decimal, lot_size: Decimal
    ) -> None:
        """New lots of a new client id generation: what the old lots held stays in the position."""
        generation = max((lot.cycle for lot in lots_of(row)), default=-1) + 1
        lots = [Lot(lot.index, cycle=generation) for lot in new_lots(new)]
        await self.orders.set_ladder(conn, row.id, new, grid_levels(new, tick), lots)

    async def update(self, caller: CallerContext, body: GridBotUpdate) -> GridBotInfo:
        """``kind_bot_config.py``: the ladder at once while stopped, at the next start while
        running or paused (its orders and lots untouched until then); the name and limits at once."""
        return grid_bot_info(await self._config().update(caller, body, self._kind()))

    async def config_changes(
        self, caller: CallerContext, body: BotConfigChangesRequest
    ) -> BotConfigChangeList:
        return await self._config().changes(caller, body)


def register(runtime: ServiceRuntime, api: GridBotsApi) -> None:
    """Every operation of ``contracts.grid_bots.REQUESTS``."""
    register_kind(
        runtime, REQUESTS,
        {"grid_bots_create": api.create, "grid_bots_get": api.get, "grid_bots_start": api.start,
         "grid_bots_stop": api.stop, "grid_bots_update": api.update,
         "grid_bots_config_changes": api.config_changes},
    )  # fmt: skip
