"""Positions, exposure and PnL of the caller's accounts, marked at the last trade price seen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import Limits, trading_day
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_monitor import (
    ExposureInfo,
    LimitsRef,
    PositionInfo,
    PositionList,
    PositionsRequest,
)
from tradeloom.shared.errors import field_invalid, require_user


def position_info(row: Row[Any]) -> PositionInfo:
    quantity, entry = Decimal(row.quantity), Decimal(row.average_entry)
    mark = None if row.mark is None else Decimal(row.mark)
    return PositionInfo(
        account_id=row.account_id,
        symbol=row.symbol,
        bot_id=row.bot_id or None,
        quantity=quantity,
        average_entry=entry,
        realised_pnl=Decimal(row.realised_pnl),
        fees=Decimal(row.fees),
        mark_price=mark,
        unrealised_pnl=None if mark is None else (mark - entry) * quantity,
        updated_at=row.updated_at,
    )


class PositionsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], positions: PositionsStore, cache: RiskCache, owners: Owners
    ) -> None:
        self._engine = engine
        self.positions = positions
        self.cache = cache
        self.owners = owners

    async def list(self, caller: CallerContext, body: PositionsRequest) -> PositionList:
        user = require_user(caller)
        if body.account_id is not None:
            await self.owners.require(caller, user, body.account_id, ask_router=False)
        async with self._engine().connect() as conn:
            rows = await self.positions.positions(conn, user, body.account_id)
        return PositionList(items=[position_info(row) for row in rows])

    async def exposure(self, caller: CallerContext, body: LimitsRef) -> ExposureInfo:
        user = require_user(caller)
        if body.account_id is None:
            raise field_invalid("account_id", "an account is required")
        await self.owners.require(caller, user, body.account_id)
        await self.cache.ensure_loaded()
        limits = self.cache.limits(user, body.account_id) or Limits()
        day, start = trading_day(datetime.now(UTC), limits.day_boundary_tz, limits.day_boundary_time)
        async with self._engine().connect() as conn:
            rows = await self.positions.positions(conn, user, body.account_id)
            exposure = await self.positions.exposure(conn, body.account_id, "", [], start)
        infos = [position_info(row) for row in rows]
        per_symbol = {info.symbol: info.quantity * (info.mark_price or info.average_entry) for info in infos}
        return ExposureInfo(
            account_id=body.account_id,
            gross=sum((abs(value) for value in per_symbol.values()), Decimal(0)),
            net=sum(per_symbol.values(), Decimal(0)),
            per_symbol=per_symbol,
            realised_pnl=sum((info.realised_pnl - info.fees for info in infos), Decimal(0)),
            unrealised_pnl=sum((info.unrealised_pnl or Decimal(0) for info in infos), Decimal(0)),
            day_pnl=exposure.day_pnl,
            trading_day=day.isoformat(),
        )
