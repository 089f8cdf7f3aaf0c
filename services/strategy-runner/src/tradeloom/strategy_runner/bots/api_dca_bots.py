"""DCA bot operations: create (checked against the market), get, start (a new cycle's market
base), stop (its open orders cancelled). A DCA bot is a ``bots`` row of kind ``dca``: it shares
the leases, the resend loop, the sub-ledger views, the halts and the status events of the bots.

An update of a running or paused bot's cycle settings waits in ``pending_config`` (its cycle
untouched); the start runs it (``kind_bot_config.py``). A start after a stop begins a new cycle
(fresh client ids): what the stopped cycle bought stays in the bot's position and is not part of
the new cycle's take-profit.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.contracts.dca_bots import (
    REQUESTS,
    DcaBotCreate,
    DcaBotInfo,
    DcaBotUpdate,
    DcaFillInfo,
    DcaPendingConfig,
)
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.errors import require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient, risk_limits_of
from tradeloom.strategy_runner.bots.grid_market import GridMarket
from tradeloom.strategy_runner.bots.kind_bot_config import KindBotConfig, KindConfig
from tradeloom.strategy_runner.bots.kind_bots_api import KindBotsApi, refuse_problems, register_kind
from tradeloom.strategy_runner.domain.dca_bot import (
    DcaConfig,
    average_entry,
    cycle_orders,
    dca_problems,
    take_profit_price,
)
from tradeloom.strategy_runner.domain.dca_fills import DcaState
from tradeloom.strategy_runner.domain.grid_bot import Problem
from tradeloom.strategy_runner.store.dca_bots_store import DcaBotsStore, config_of, state_of, units_of

CYCLE = (
    "base_quantity", "safety_quantity", "price_deviation", "max_safety_orders", "take_profit", "step_scale",
    "volume_scale",
)  # fmt: skip


def _problems(config: DcaConfig, market: GridMarket) -> list[Problem]:
    return dca_problems(
        config, tick=market.tick, lot_size=market.lot_size, price=market.price, free_quote=market.free_quote
    )


def dca_bot_info(row: Row[Any]) -> DcaBotInfo:
    config, state = config_of(row), state_of(row)
    tick, _ = units_of(row)
    fills = [DcaFillInfo(step=f.step, price=f.price, quantity=f.quantity) for f in state.fills]
    return DcaBotInfo(
        bot_id=str(row.id), name=row.name, account_id=row.account_id, venue=row.venue, symbol=row.symbol,
        base_quantity=config.base_quantity, safety_quantity=config.safety_quantity,
        price_deviation=config.price_deviation, max_safety_orders=config.max_safety_orders,
        take_profit=config.take_profit, step_scale=config.step_scale, volume_scale=config.volume_scale,
        status=row.status, status_reason=row.status_reason, position=plain(Decimal(row.position)),
        cycle=state.cycle, fills=fills, average_entry=average_entry(state.fills) if state.fills else None,
        take_profit_price=take_profit_price(config, state.fills, tick) if state.fills else None,
        created_at=row.created_at, updated_at=row.updated_at, risk_limits=risk_limits_of(row),
        pending_config=None if row.pending_config is None else DcaPendingConfig.model_validate(
            {name: row.pending_config[name] for name in CYCLE}
        ),
    )  # fmt: skip


class DcaBotsApi(KindBotsApi):
    kind = "dca"

    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox], schema: str, timeout_s: float, *, risk_limits: BotRiskLimitsClient,
    ) -> None:  # fmt: skip
        super().__init__(engine, client, outbox, schema, timeout_s, risk_limits=risk_limits)
        self.dca = DcaBotsStore(schema)

    def info(self, row: Row[Any]) -> DcaBotInfo:
        return dca_bot_info(row)

    async def create(self, caller: CallerContext, body: DcaBotCreate) -> DcaBotInfo:
        user_id = require_user(caller)
        config = DcaConfig(
            body.base_quantity, body.safety_quantity, body.price_deviation, body.max_safety_orders,
            body.take_profit, body.step_scale, body.volume_scale,
        )  # fmt: skip
        market = await self.market.market(caller, body.account_id, body.venue, body.symbol)
        refuse_problems(_problems(config, market))
        bot_id = new_event_id()

        async def insert(conn: AsyncConnection) -> None:
            await self.dca.create(
                conn, bot_id, user_id=user_id, name=body.name, account_id=body.account_id, venue=body.venue,
                symbol=body.symbol, config=config, tick=market.tick, lot_size=market.lot_size,
            )  # fmt: skip

        return dca_bot_info(await self._create(caller, bot_id, body.account_id, body.risk_limits, insert))

    async def start(self, caller: CallerContext, body: BotRef) -> DcaBotInfo:
        """Running, with a cycle's base (market) recorded for the resend loop."""
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._row(conn, body.bot_id, user_id, lock=True)
            self._allowed(row, "start")
            row = await self._config().apply_pending(conn, row, self._kind())
            state = state_of(row)
            if await self.orders.has_orders(conn, row.id):
                state = DcaState(state.cycle + 1)
                await self.dca.set_state(conn, row.id, state)
            tick, lot_size = units_of(row)
            for order in cycle_orders(
                body.bot_id, config_of(row), state.cycle, state.fills, tick=tick, lot_size=lot_size
            ):
                await self.dca.add_order(conn, row.id, row.symbol, order)
            row = await self._set_status(conn, row, user_id, "running", "start")
        return dca_bot_info(row)

    def _config(self) -> KindBotConfig:
        return KindBotConfig(self, self.bots.s)

    def _kind(self) -> KindConfig:
        return KindConfig(CYCLE, config_of, _problems, self._store_cycle)

    async def _store_cycle(
        self, conn: AsyncConnection, row: Row[Any], new: DcaConfig, tick: Decimal, lot_size: Decimal
    ) -> None:
        await self.dca.set_config(conn, row.id, new, tick, lot_size)

    async def update(self, caller: CallerContext, body: DcaBotUpdate) -> DcaBotInfo:
        """``kind_bot_config.py``: the cycle's settings at once while stopped, at the next start
        while running or paused (its cycle untouched until then); the name and limits at once."""
        return dca_bot_info(await self._config().update(caller, body, self._kind()))

    async def config_changes(
        self, caller: CallerContext, body: BotConfigChangesRequest
    ) -> BotConfigChangeList:
        return await self._config().changes(caller, body)


def register(runtime: ServiceRuntime, api: DcaBotsApi) -> None:
    """Every operation of ``contracts.dca_bots.REQUESTS``."""
    register_kind(
        runtime, REQUESTS,
        {"dca_bots_create": api.create, "dca_bots_get": api.get, "dca_bots_start": api.start,
         "dca_bots_stop": api.stop, "dca_bots_update": api.update,
         "dca_bots_config_changes": api.config_changes},
    )  # fmt: skip
