"""Limits CRUD and alerts (list, acknowledge), owner-checked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.alerts import alert_info
from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import Limits
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.risk_store import LIMIT_COLUMNS, RiskStore, limit_values, limits_of
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_monitor import (
    AlertInfo,
    AlertList,
    AlertListRequest,
    AlertRef,
    LimitsInfo,
    LimitsPut,
    LimitsScope,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user

BOT_UNSUPPORTED = (
    "max_leverage",
    "max_drawdown",
    "starting_balance",
    "max_daily_loss_hard",
    "max_net_delta",
    "max_net_vega",
)


def limits_info(
    account_id: str | None, limits: Limits, row: Row[Any] | None, bot_id: str | None = None
) -> LimitsInfo:
    return LimitsInfo(
        account_id=account_id,
        bot_id=bot_id,
        max_order_notional=limits.max_order_notional,
        max_position_notional=limits.max_position_notional,
        max_open_orders=limits.max_open_orders,
        max_daily_loss=limits.max_daily_loss,
        max_gross_exposure=limits.max_gross_exposure,
        max_orders_per_minute=limits.max_orders_per_minute,
        max_leverage=limits.max_leverage,
        max_daily_loss_hard=limits.max_daily_loss_hard,
        max_drawdown=limits.max_drawdown,
        max_net_delta=limits.max_net_delta,
        max_net_vega=limits.max_net_vega,
        starting_balance=limits.starting_balance,
        alert_threshold_pct=limits.alert_threshold_pct,
        day_boundary_tz=limits.day_boundary_tz,
        day_boundary_time=limits.day_boundary_time.strftime("%H:%M"),
        updated_at=None if row is None else row.updated_at,
    )


class LimitsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], store: RiskStore, cache: RiskCache, owners: Owners
    ) -> None:
        self._engine = engine
        self.store = store
        self.cache = cache
        self.owners = owners

    async def _scope(
        self, caller: CallerContext, account_id: str | None, *, ask_router: bool = True
    ) -> tuple[str, str]:
        user = require_user(caller)
        if account_id is not None:
            await self.owners.require(caller, user, account_id, ask_router=ask_router)
        return user, account_id or ""

    def _bot(self, account: str, bot_id: str | None, limits: LimitsPut | None = None) -> str:
        """'' or the bot of a bot's limits: on one account, only the limits a bot's orders can be
        measured by alone (no equity: leverage and drawdown are the account's)."""
        if bot_id is None:
            return ""
        if not account:
            raise field_invalid("bot_id", "a bot's limits are set on one account: account_id is required")
        if limits is not None:
            for name in BOT_UNSUPPORTED:
                if getattr(limits, name) is not None:
                    raise field_invalid(name, "a limit of the account, not of one bot")
        return bot_id

    async def get(self, caller: CallerContext, body: LimitsScope) -> LimitsInfo:
        user, account = await self._scope(caller, body.account_id)
        bot = self._bot(account, body.bot_id)
        async with self._engine().connect() as conn:
            row = await self.store.limits_row(conn, user, account, bot)
        return limits_info(body.account_id, limits_of(row) or Limits(), row, body.bot_id)

    async def put(self, caller: CallerContext, body: LimitsPut) -> LimitsInfo:
        try:
            ZoneInfo(body.day_boundary_tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise field_invalid("day_boundary_tz", f"unknown time zone {body.day_boundary_tz!r}") from error
        for name in ("max_leverage", "max_drawdown"):
            if getattr(body, name) is not None and body.starting_balance is None:
                raise field_invalid("starting_balance", f"{name} is measured on equity: set starting_balance")
        user, account = await self._scope(caller, body.account_id)
        bot = self._bot(account, body.bot_id, body)
        values = {name: getattr(body, name) for name in LIMIT_COLUMNS}
        values["day_boundary_time"] = time.fromisoformat(body.day_boundary_time)
        async with self._engine().begin() as conn:
            old = limit_values(await self.store.limits_row(conn, user, account, bot, for_update=True))
            row = await self.store.put_limits(conn, user, account, values, bot_id=bot, by=user)
            new = limit_values(row)
            await self.store.audit(conn, user, account, bot_id=bot, by=user, action="put", old=old, new=new)
        limits = limits_of(row)
        assert limits is not None
        self.cache.set_limits(user, account, limits, bot)
        return limits_info(body.account_id, limits, row, body.bot_id)

    async def delete(self, caller: CallerContext, body: LimitsScope) -> LimitsInfo:
        user, account = await self._scope(caller, body.account_id)
        bot = self._bot(account, body.bot_id)
        async with self._engine().begin() as conn:
            old = limit_values(await self.store.limits_row(conn, user, account, bot, for_update=True))
            if old is None or not await self.store.delete_limits(conn, user, account, bot):
                raise NotFound("no limits are set here")
            await self.store.audit(
                conn, user, account, bot_id=bot, by=user, action="delete", old=old, new=None
            )
        self.cache.set_limits(user, account, None, bot)
        return limits_info(body.account_id, Limits(), None, body.bot_id)

    async def alerts(self, caller: CallerContext, body: AlertListRequest) -> AlertList:
        user, _ = await self._scope(caller, body.account_id, ask_router=False)
        async with self._engine().connect() as conn:
            rows = await self.store.alerts(conn, user, body.account_id, body.unacknowledged_only, body.limit)
        return AlertList(items=[alert_info(row) for row in rows])

    async def ack(self, caller: CallerContext, body: AlertRef) -> AlertInfo:
        user = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self.store.ack_alert(conn, user, body.alert_id)
        if row is None:
            raise NotFound(f"alert {body.alert_id} not found")
        return alert_info(row)
