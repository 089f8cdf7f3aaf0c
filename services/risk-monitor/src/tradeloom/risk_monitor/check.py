"""``svc.risk-monitor.check``: the pre-trade check order-router waits for (50 ms deadline).

Limits and halts come from memory (``RiskCache``); the account's position in the symbol, its open
orders, gross exposure and trading-day PnL come from one query on indexed keys, and only when the
account has limits at all. Orders approved but not yet seen in an event count as open
(``PendingOrders``). The reply names every limit the order would break.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import OrderCheck, refusals, trading_day
from tradeloom.risk_monitor.pending import PendingOrders
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest

MAX_REASON = 500
MINUTE = timedelta(minutes=1)


class PreTradeCheck:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        cache: RiskCache,
        positions: PositionsStore,
        pending: PendingOrders,
    ) -> None:
        self._engine = engine
        self.cache = cache
        self.positions = positions
        self.pending = pending

    async def check(self, caller: CallerContext, request: RiskCheckRequest) -> RiskCheckReply:
        del caller  # order-router asks on behalf of the user named in the request
        await self.cache.ensure_loaded()
        halted = self.cache.halt_reason(request.user_id, request.account_id)
        if halted is not None:
            return RiskCheckReply(approved=False, reason=f"trading_halted: {halted}"[:MAX_REASON])
        limits = self.cache.limits(request.user_id, request.account_id)
        if limits is None:
            return RiskCheckReply(approved=True)
        now = datetime.now(UTC)
        _, day_start = trading_day(now, limits.day_boundary_tz, limits.day_boundary_time)
        exclude, earlier = self.pending.reserve(request.account_id, request.order_id)
        try:
            async with self._engine().connect() as conn:
                exposure = await self.positions.exposure(
                    conn,
                    request.account_id,
                    request.symbol,
                    exclude,
                    day_start=day_start,
                    minute_ago=now - MINUTE,
                )
        except BaseException:
            self.pending.release(request.account_id, request.order_id)
            raise
        exposure = replace(
            exposure,
            open_orders=exposure.open_orders + earlier,
            orders_last_minute=exposure.orders_last_minute + earlier,
        )
        price = request.price or request.reference_price or (request.notional / request.quantity)
        order = OrderCheck(request.side, request.quantity, price, request.notional)
        reasons = refusals(order, exposure, limits)
        if reasons:
            self.pending.release(request.account_id, request.order_id)
            return RiskCheckReply(approved=False, reason="; ".join(reasons)[:MAX_REASON])
        return RiskCheckReply(approved=True)
