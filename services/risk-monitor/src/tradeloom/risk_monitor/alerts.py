"""Alerts when a limit is approached (``alert_threshold_pct`` of it) or breached.

One alert per (account, limit, level, trading day): its id is that key, stored with
``ON CONFLICT DO NOTHING``, and ``risk.evt.alert.v1.<account>`` is written to the outbox only when
the row is new, so redeliveries and repeated evaluations never double an alert. A new breach of
``max_daily_loss_hard`` also writes ``risk.evt.flatten.v1.<account>`` (every position of the
account, to be closed) in the same transaction: once per trading day, like its alert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import alert_level, trading_day, usage
from tradeloom.risk_monitor.flatten import flatten
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.contracts.risk_monitor import AlertInfo, RiskAlert
from tradeloom.shared.outbox import Outbox

SEVERITY = {"approaching": "warning", "breached": "critical"}


def alert_info(row: Row[Any]) -> AlertInfo:
    return AlertInfo(
        alert_id=row.id,
        account_id=row.account_id,
        limit_name=row.limit_name,
        level=row.level,
        severity=row.severity,
        value=Decimal(row.value),
        threshold=Decimal(row.threshold),
        message=row.message,
        acknowledged_at=row.acknowledged_at,
        created_at=row.created_at,
    )


async def record_alert(
    conn: AsyncConnection,
    store: RiskStore,
    outbox: Outbox,
    metrics: RiskMetrics,
    *,
    user_id: str,
    account_id: str,
    name: str,
    level: str,
    episode: str,
    value: Decimal,
    threshold: Decimal,
    message: str,
) -> AlertInfo | None:
    """Store the alert of (account, limit, level, episode) and publish it, only if it is new."""
    row = await store.add_alert(
        conn,
        {
            "id": f"{account_id}:{name}:{level}:{episode}",
            "user_id": user_id,
            "account_id": account_id,
            "limit_name": name,
            "level": level,
            "severity": SEVERITY[level],
            "episode": episode,
            "value": value,
            "threshold": threshold,
            "message": message,
        },
    )
    if row is None:
        return None
    info = alert_info(row)
    await outbox.add(conn, RiskAlert(user_id=user_id, alert=info), account_id)
    metrics.alerts.labels(name, level).inc()
    return info


class Alerter:
    def __init__(
        self,
        cache: RiskCache,
        positions: PositionsStore,
        store: RiskStore,
        outbox: Outbox,
        metrics: RiskMetrics | None = None,
    ) -> None:
        self.metrics = metrics or RiskMetrics(None)
        self.cache = cache
        self.positions = positions
        self.store = store
        self.outbox = outbox

    async def evaluate(
        self, conn: AsyncConnection, user_id: str, account_id: str, symbol: str, mark: Decimal
    ) -> list[AlertInfo]:
        """Measure the account against its limits after a change; store and publish new alerts."""
        await self.cache.ensure_loaded()
        limits = self.cache.limits(user_id, account_id)
        if limits is None:
            return []
        day, start = trading_day(datetime.now(UTC), limits.day_boundary_tz, limits.day_boundary_time)
        exposure = await self.positions.exposure(
            conn, account_id, symbol, [], day_start=start, minute_ago=start
        )
        position_notional = abs(exposure.symbol_quantity) * mark
        raised: list[AlertInfo] = []
        for name, value, limit in usage(exposure, position_notional, limits):
            level = alert_level(value, limit, limits.alert_threshold_pct)
            if level is None:
                continue
            info = await record_alert(
                conn, self.store, self.outbox, self.metrics, user_id=user_id, account_id=account_id,
                name=name,
                level=level, episode=day.isoformat(), value=value, threshold=limit,
                message=f"{name} {level}: {value.normalize():f} of {limit.normalize():f}",
            )  # fmt: skip
            if info is not None:
                raised.append(info)
                if name == "max_daily_loss_hard" and level == "breached":
                    await flatten(
                        conn,
                        self.positions,
                        self.outbox,
                        user_id=user_id,
                        account_ids=[account_id],
                        reason=info.message,
                    )
        return raised
