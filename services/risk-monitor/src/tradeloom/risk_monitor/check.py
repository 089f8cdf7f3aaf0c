"""``svc.risk-monitor.check``: the pre-trade check order-router waits for (50 ms deadline), and
``check_batch``: several orders' checks in one request (order-router's ``orders_submit_batch``).

Limits and halts come from memory (``RiskCache``); the account's positions, open and recent orders,
trading-day PnL and high-water mark from memory too (``CheckState``: read from Postgres once when
unknown, then kept current by the orders consumer), and only when the account has limits at all; so
does the last price of each symbol. Orders approved but not yet seen in an event count as open
(``PendingOrders``): the order is reserved before the account is read. The reply names every limit
the order would break. A bot's order (its client order id names the bot) is also measured against
the bot's own limits on the account, on the bot's positions, orders and fills only; those reasons
start with ``bot ``.

An order on a perpetual counts ``contracts × contract size`` base units: its notional enters the
position, gross exposure and leverage (gross / equity) limits like a spot order's. With a
``starting_balance`` (equity known), an entry on a perpetual must also fit its initial margin
(notional / the account's leverage for the symbol) in the free margin (``perp_margin``).

An option entry is also measured against ``max_net_delta`` / ``max_net_vega`` (``option_check.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.api_positions import position_info
from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.check_state import CheckState
from tradeloom.risk_monitor.domain.exposure import bot_of_client_order_id
from tradeloom.risk_monitor.domain.limits import Exposure, OrderCheck, refusals, trading_day
from tradeloom.risk_monitor.domain.perps import DEFAULT_LEVERAGE, PerpConfig, is_perpetual, margin_refusal
from tradeloom.risk_monitor.metrics import RiskMetrics, check_result
from tradeloom.risk_monitor.option_check import OptionGreeksCheck, needs_greeks
from tradeloom.risk_monitor.pending import PendingOrders
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders_batch import RiskCheckBatchReply, RiskCheckBatchRequest
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
        perps: PerpConfig,
        *,
        state: CheckState,
        metrics: RiskMetrics | None = None,
        options: OptionGreeksCheck | None = None,
    ) -> None:
        self.state = state
        self.metrics = metrics or RiskMetrics(None)
        self._engine = engine
        self.cache = cache
        self.positions = positions
        self.pending = pending
        self.perps = perps
        self.options = options

    async def check(self, caller: CallerContext, request: RiskCheckRequest) -> RiskCheckReply:
        """The check, counted by result and timed (``tl_risk_checks``, ``tl_risk_check_seconds``)."""
        started = time.perf_counter()
        reply = await self._check(caller, request)
        self.metrics.check_seconds.observe(time.perf_counter() - started)
        self.metrics.checks.labels(check_result(reply.approved, reply.reason)).inc()
        return reply

    async def check_batch(self, caller: CallerContext, request: RiskCheckBatchRequest) -> RiskCheckBatchReply:
        """``check_batch``: each order checked as ``check`` checks it, one after the other in the order
        given (an order the batch approved earlier counts as pending for the next); one reply each.
        A check that fails (the database away) fails the whole request: order-router then fails
        every order of it closed, as it would each single check."""
        return RiskCheckBatchReply(results=[await self.check(caller, one) for one in request.checks])

    async def _check(self, caller: CallerContext, request: RiskCheckRequest) -> RiskCheckReply:
        del caller  # order-router asks on behalf of the user named in the request
        await self.cache.ensure_loaded()
        halted = self.cache.halt_reason(request.user_id, request.account_id)
        if halted is not None:
            return RiskCheckReply(approved=False, reason=f"trading_halted: {halted}"[:MAX_REASON])
        limits = self.cache.limits(request.user_id, request.account_id)
        bot = bot_of_client_order_id(request.client_order_id)
        bot_limits = self.cache.bot_limits(request.user_id, request.account_id, bot)
        day_limits = limits or bot_limits
        if day_limits is None:
            return RiskCheckReply(approved=True)
        now = datetime.now(UTC)
        _, day_start = trading_day(now, day_limits.day_boundary_tz, day_limits.day_boundary_time)
        exclude, earlier = self.pending.reserve(request.account_id, request.order_id)
        scopes = [(prefix, scoped) for prefix, scoped in (("", limits), ("bot ", bot_limits)) if scoped]
        perps: list[Row[Any]] | None = None
        held: list[Row[Any]] | None = None
        try:
            snap = self.state.known(request.account_id, day_start)
            if snap is None:
                snap = await self.state.snapshot(request.account_id, day_start)
            wants_margin = limits is not None and limits.starting_balance is not None
            if (wants_margin and is_perpetual(request.symbol)) or (
                self.options is not None and needs_greeks(request, limits)
            ):  # perpetual margins and option Greeks: the positions with their settings
                async with self._engine().connect() as conn:
                    rows = await self.positions.positions(conn, request.user_id, request.account_id)
                perps = rows if wants_margin and is_perpetual(request.symbol) else None
                held = rows if self.options is not None and needs_greeks(request, limits) else None
        except BaseException:
            self.pending.release(request.account_id, request.order_id)
            raise
        excluded = set(exclude)
        measured = [
            (
                prefix,
                scoped,
                self.state.exposure(
                    snap, request.symbol, excluded, now - MINUTE, bot_id=bot if prefix else None
                ),
            )
            for prefix, scoped in scopes
        ]
        price = request.price or request.reference_price or (request.notional / request.quantity)
        size = request.contract_size or self.perps.size(request.symbol)  # the registry's, else the setting
        closing = request.position_side is not None and (request.side == "sell") == (
            request.position_side == "long"
        )
        order = OrderCheck(request.side, request.quantity * size, price, request.notional * size, closing)
        reasons: list[str] = []
        for prefix, scoped, exposure in measured:
            pending = replace(
                exposure,
                open_orders=exposure.open_orders + earlier,
                orders_last_minute=exposure.orders_last_minute + earlier,
            )
            reasons += [prefix + reason for reason in refusals(order, pending, scoped)]
        if perps is not None and limits is not None and limits.starting_balance is not None:
            refused = self._margin(perps, request.symbol, order, measured[0][2], limits.starting_balance)
            reasons += [] if refused is None else [refused]
        if held is not None and limits is not None and self.options is not None:
            reasons += await self.options.refusals(request, limits, held)
        if reasons:
            self.pending.release(request.account_id, request.order_id)
            return RiskCheckReply(approved=False, reason="; ".join(reasons)[:MAX_REASON])
        return RiskCheckReply(approved=True)

    def _margin(
        self, rows: list[Row[Any]], symbol: str, order: OrderCheck, exposure: Exposure, starting: Decimal
    ) -> str | None:
        """The perpetual entry's margin against the free margin (equity − every perpetual's margin)."""
        if order.reduces(exposure.symbol_quantity):
            return None
        used, leverage = Decimal(0), DEFAULT_LEVERAGE
        for row in rows:
            if not is_perpetual(row.symbol):
                continue
            info = position_info(row, self.perps)
            used += info.margin_used or Decimal(0)
            if row.symbol == symbol:
                leverage = info.leverage or DEFAULT_LEVERAGE
        return margin_refusal(order.notional, leverage, used, exposure.equity(starting))
