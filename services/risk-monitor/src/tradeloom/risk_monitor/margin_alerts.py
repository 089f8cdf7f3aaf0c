"""Alerts when a perpetual margin pool approaches or reaches liquidation.

Each pool (the cross positions, each isolated position; ``domain.margin``) is measured at the marks
whenever the prices of its account's symbols move (``Marks``): ``warning`` "approaching" when its
maintenance margin reaches ``MARGIN_ALERT_RATIO`` (default 80 %) of its equity, ``critical``
"breached" when it exceeds the equity (the paper exchange liquidates there). The cross pool needs the
account's equity: measured only when the account has a ``starting_balance`` limit (equity = it + the
PnL folded from fills, as the pre-trade margin check uses); isolated pools always.

The alert machinery is the limits' one: one alert per (account, ``margin_ratio``, level, episode)
with the episode the trading day and the pool (``2026-12-06:cross``), stored ``ON CONFLICT DO
NOTHING`` and published (``risk.evt.alert``) in the same transaction only when new. ``value`` is the
pool's maintenance margin, ``threshold`` its equity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.alerts import record_alert
from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import Limits, trading_day
from tradeloom.risk_monitor.domain.margin import MarginPool
from tradeloom.risk_monitor.domain.perps import PerpConfig, is_perpetual
from tradeloom.risk_monitor.margins import margin_of
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.contracts.risk_monitor import AlertInfo
from tradeloom.shared.outbox import Outbox

NAME = "margin_ratio"


def pool_level(pool: MarginPool, alert_ratio: Decimal) -> str | None:
    if pool.liquidating:
        return "breached"
    if pool.maintenance > 0 and pool.maintenance >= alert_ratio * pool.equity:
        return "approaching"
    return None


def _plain(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


class MarginAlerts:
    def __init__(
        self,
        cache: RiskCache,
        positions: PositionsStore,
        store: RiskStore,
        outbox: Outbox,
        perps: PerpConfig,
        *,
        alert_ratio: Decimal,
        metrics: RiskMetrics | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cache = cache
        self.positions = positions
        self.store = store
        self.outbox = outbox
        self.perps = perps
        self.alert_ratio = alert_ratio
        self.metrics = metrics or RiskMetrics(None)
        self.now = now

    async def evaluate(self, conn: AsyncConnection, user_id: str, account_id: str) -> list[AlertInfo]:
        """Measure the account's perpetual margin pools; store and publish the new alerts."""
        rows = await self.positions.positions(conn, user_id, account_id)
        if not any(is_perpetual(row.symbol) and Decimal(row.quantity) != 0 for row in rows):
            return []
        await self.cache.ensure_loaded()
        limits = self.cache.limits(user_id, account_id) or Limits()
        day, start = trading_day(self.now(), limits.day_boundary_tz, limits.day_boundary_time)
        equity = None
        if limits.starting_balance is not None:
            exposure = await self.positions.exposure(
                conn, account_id, "", [], day_start=start, minute_ago=start
            )
            equity = exposure.equity(limits.starting_balance)
        raised = []
        for pool in margin_of(equity, rows, self.perps).pools:
            level = pool_level(pool, self.alert_ratio)
            if level is None:
                continue
            info = await record_alert(
                conn, self.store, self.outbox, self.metrics, user_id=user_id, account_id=account_id,
                name=NAME,
                level=level, episode=f"{day.isoformat()}:{pool.name}", value=pool.maintenance,
                threshold=pool.equity,
                message=f"{NAME} {pool.name} {level}: maintenance margin {_plain(pool.maintenance)} "
                f"of equity {_plain(pool.equity)}",
            )  # fmt: skip
            if info is not None:
                raised.append(info)
        return raised
