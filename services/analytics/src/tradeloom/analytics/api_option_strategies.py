"""Saved option strategies: create, list, get (with the latest valuation stored by the M2M worker,
``option_marker``) and delete; another user's strategy is ``not_found`` like an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.option_marker import OptionMarker
from tradeloom.analytics.store.option_strategies_store import OptionStrategiesStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_option_strategies import (
    OptionStrategyCreate,
    OptionStrategyDeleted,
    OptionStrategyInfo,
    OptionStrategyList,
    OptionStrategyListRequest,
    OptionStrategyRef,
    SavedLeg,
    Valuation,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user


def strategy_info(row: Any) -> OptionStrategyInfo:
    return OptionStrategyInfo(
        option_strategy_id=row.option_strategy_id, name=row.name, underlying=row.underlying,
        venue=row.venue, model=row.model, rate=row.rate, dividend_yield=row.dividend_yield,
        legs=[SavedLeg.model_validate(leg) for leg in row.legs], created_at=row.created_at,
        valuation=None if row.valuation is None else Valuation.model_validate(row.valuation),
    )  # fmt: skip


class OptionStrategiesApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: OptionStrategiesStore,
        marker: OptionMarker,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self.store = store
        self.marker = marker
        self.now = now

    async def create(self, caller: CallerContext, body: OptionStrategyCreate) -> OptionStrategyInfo:
        user = require_user(caller)
        now = self.now()
        for n, leg in enumerate(body.legs):
            if leg.expiry is not None and leg.expiry <= now:
                raise field_invalid(f"legs.{n}.expiry", "already expired")
        row = {
            "option_strategy_id": f"os-{uuid.uuid4().hex}", "user_id": user, "name": body.name,
            "underlying": body.underlying, "venue": body.venue, "model": body.model, "rate": body.rate,
            "dividend_yield": body.dividend_yield, "legs": [leg.model_dump(mode="json") for leg in body.legs],
        }  # fmt: skip
        async with self._engine().begin() as conn:
            stored = await self.store.add(conn, row)
        self.marker.again(body.venue, body.underlying)  # valued at once if a price is known
        return strategy_info(stored)

    async def list(self, caller: CallerContext, body: OptionStrategyListRequest) -> OptionStrategyList:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.store.of_user(conn, user)
        return OptionStrategyList(items=[strategy_info(row) for row in rows])

    async def get(self, caller: CallerContext, body: OptionStrategyRef) -> OptionStrategyInfo:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, user, body.option_strategy_id)
        if row is None:
            raise NotFound(f"option strategy {body.option_strategy_id} not found")
        return strategy_info(row)

    async def delete(self, caller: CallerContext, body: OptionStrategyRef) -> OptionStrategyDeleted:
        user = require_user(caller)
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, user, body.option_strategy_id):
                raise NotFound(f"option strategy {body.option_strategy_id} not found")
        return OptionStrategyDeleted(option_strategy_id=body.option_strategy_id, deleted=True)
