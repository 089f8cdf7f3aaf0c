"""History: an account's end-of-day balances (and drawdown floor), the audit of limit changes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.eod_store import EodStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_monitor import (
    EodInfo,
    EodList,
    EodRequest,
    LimitChange,
    LimitChangeList,
    LimitChangesRequest,
)
from tradeloom.shared.errors import require_user


class HistoryApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], eod: EodStore, store: RiskStore, owners: Owners
    ) -> None:
        self._engine = engine
        self.eod = eod
        self.store = store
        self.owners = owners

    async def eod_balances(self, caller: CallerContext, body: EodRequest) -> EodList:
        user = require_user(caller)
        await self.owners.require(caller, user, body.account_id)
        async with self._engine().connect() as conn:
            rows = await self.eod.history(conn, user, body.account_id, body.limit)
        return EodList(
            items=[
                EodInfo(
                    trading_day=row.trading_day,
                    day_pnl=Decimal(row.day_pnl),
                    balance=Decimal(row.balance),
                    high_water=Decimal(row.high_water),
                    floor=None if row.floor is None else Decimal(row.floor),
                    breached=row.breached,
                )
                for row in rows
            ]
        )

    async def limit_changes(self, caller: CallerContext, body: LimitChangesRequest) -> LimitChangeList:
        user = require_user(caller)
        if body.account_id is not None:
            await self.owners.require(caller, user, body.account_id, ask_router=False)
        async with self._engine().connect() as conn:
            rows = await self.store.changes(conn, user, body.account_id, body.limit)
        return LimitChangeList(
            items=[
                LimitChange(
                    change_id=row.id,
                    account_id=row.account_id or None,
                    bot_id=row.bot_id or None,
                    changed_by=row.changed_by,
                    action=row.action,
                    old_values=row.old_values,
                    new_values=row.new_values,
                    changed_at=row.changed_at,
                )
                for row in rows
            ]
        )
