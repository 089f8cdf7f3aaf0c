"""Leverage, margin mode and position mode per account and perpetual: list and put, owner-checked,
every put audited (``perp_settings_changes``: old and new values).

The position mode is per account and symbol, like the leverage and margin mode it sits with (and
ccxt's ``set_position_mode(hedged, symbol)``, which takes a symbol: Bybit sets it per symbol;
Binance USDⓈ-M keeps one mode per account and ignores the symbol). Like both venues, it changes
only while the symbol has no open position or order (422 ``position_mode``, rule ``position_open``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.domain.perps import PerpConfig, check_leverage
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.perps_store import PerpsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_perps import (
    PerpSettingsInfo,
    PerpSettingsList,
    PerpSettingsPut,
    PerpSettingsRequest,
)
from tradeloom.shared.errors import ValidationFailed, field_invalid, require_user


class PerpsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], store: PerpsStore, owners: Owners, config: PerpConfig
    ) -> None:
        self._engine = engine
        self.store = store
        self.owners = owners
        self.config = config

    def _info(self, row: Row[Any]) -> PerpSettingsInfo:
        return PerpSettingsInfo(
            account_id=row.account_id,
            symbol=row.symbol,
            leverage=Decimal(row.leverage),
            margin_mode=row.margin_mode,
            position_mode=row.position_mode,
            maintenance_margin_rate=self.config.mmr(row.symbol),
            updated_at=row.updated_at,
        )

    async def list(self, caller: CallerContext, body: PerpSettingsRequest) -> PerpSettingsList:
        user = require_user(caller)
        await self.owners.require(caller, user, body.account_id)
        async with self._engine().connect() as conn:
            rows = await self.store.settings(conn, body.account_id)
        return PerpSettingsList(items=[self._info(row) for row in rows])

    async def put(self, caller: CallerContext, body: PerpSettingsPut) -> PerpSettingsInfo:
        user = require_user(caller)
        error = check_leverage(body.leverage)
        if error is not None:
            raise field_invalid("leverage", error)
        await self.owners.require(caller, user, body.account_id)
        async with self._engine().begin() as conn:
            old = await self.store.setting(conn, body.account_id, body.symbol)
            current = "one_way" if old is None else old.position_mode
            if body.position_mode not in (None, current) and await self.store.busy(
                conn, body.account_id, body.symbol
            ):
                message = f"cannot change while {body.symbol} has an open position or order"
                raise ValidationFailed(
                    f"position_mode: {message}",
                    details={
                        "fields": [{"field": "position_mode", "rule": "position_open", "message": message}]
                    },
                )
            row = await self.store.put(conn, user, body)
            await self.store.audit(conn, user, body.account_id, old, row)
        return self._info(row)
