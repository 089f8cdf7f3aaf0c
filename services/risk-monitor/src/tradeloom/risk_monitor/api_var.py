"""Portfolio VaR/CVaR and the risk score of one of the caller's accounts (``var``, ``risk_score``).

The positions are risk-monitor's fold (net per symbol, at the mark, else the average entry); each
symbol's closed bars come from ``market-data.candles``, asked as the caller (a symbol market-data
does not know has no history: it is named in ``insufficient_history``). The equity is the one the
limits use: the ``starting_balance`` limit + PnL folded from fills (``domain.limits.Exposure``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.drawdown import floor_today
from tradeloom.risk_monitor.domain.limits import Exposure, Limits, trading_day
from tradeloom.risk_monitor.domain.score import ScoreInputs, components, score
from tradeloom.risk_monitor.domain.var import CONFIDENCES, Measure, fraction, portfolio_var
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_var import (
    RiskScoreReply,
    ScoreComponent,
    VarHolding,
    VarMeasure,
    VarReply,
    VarRequest,
)
from tradeloom.shared.errors import require_user
from tradeloom.shared.rpc import RemoteError, ServiceClient

HOUR_NS = 3_600_000_000_000
WIDTH_NS = {"1h": HOUR_NS, "4h": 4 * HOUR_NS, "12h": 12 * HOUR_NS, "1d": 24 * HOUR_NS, "1w": 168 * HOUR_NS}


def net_holdings(rows: list[Row[Any]]) -> list[VarHolding]:
    """One holding per symbol (bots' positions summed), at the mark, else the average entry."""
    merged: dict[str, tuple[Decimal, Decimal, str | None]] = {}
    for row in rows:
        price = Decimal(row.average_entry) if row.mark is None else Decimal(row.mark)
        quantity = merged.get(row.symbol, (Decimal(0), price, None))[0] + Decimal(row.quantity)
        merged[row.symbol] = (quantity, price, row.venue or None)
    return [
        VarHolding(symbol=s, venue=venue, quantity=q, mark_price=p, exposure=q * p)
        for s, (q, p, venue) in sorted(merged.items())
        if q != 0
    ]


def _measure(measure: Measure, equity: Decimal | None) -> VarMeasure:
    return VarMeasure(
        var=measure.var,
        cvar=measure.cvar,
        var_fraction=fraction(measure.var, equity),
        cvar_fraction=fraction(measure.cvar, equity),
    )


class VarApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        positions: PositionsStore,
        cache: RiskCache,
        owners: Owners,
        *,
        client: Callable[[], ServiceClient],
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self.positions = positions
        self.cache = cache
        self.owners = owners
        self.timeout_s = timeout_s

    async def var(self, caller: CallerContext, body: VarRequest) -> VarReply:
        reply, _, _ = await self._measure(caller, body)
        return reply

    async def score(self, caller: CallerContext, body: VarRequest) -> RiskScoreReply:
        var, exposure, limits = await self._measure(caller, body)
        largest = max((abs(h.exposure) for h in var.symbols), default=Decimal(0))
        equity = var.equity
        drawdown = room = None
        if equity is not None:
            high = exposure.high_water if exposure.high_water is not None else limits.starting_balance
            drawdown = max((high or equity) - equity, Decimal(0))
        if limits.starting_balance is not None and limits.max_drawdown is not None:
            high = exposure.high_water or limits.starting_balance
            room = high - floor_today(exposure.high_water, limits.starting_balance, limits.max_drawdown)
        inputs = ScoreInputs(
            equity=equity,
            gross=sum((abs(h.exposure) for h in var.symbols), Decimal(0)),
            largest=largest,
            day_loss=max(-exposure.day_pnl, Decimal(0)),
            drawdown=drawdown,
            drawdown_room=room,
            var99=var.historical_99.var,
            max_leverage=limits.max_leverage,
            max_daily_loss=limits.max_daily_loss,
        )
        parts = components(inputs)
        return RiskScoreReply(
            account_id=body.account_id,
            score=score(parts),
            components=[
                ScoreComponent(
                    name=p.name,
                    value=p.value,
                    reference=p.reference,
                    weight=p.weight,
                    sub_score=p.sub_score,
                )
                for p in parts
            ],
            var=var,
        )

    async def _measure(self, caller: CallerContext, body: VarRequest) -> tuple[VarReply, Exposure, Limits]:
        user = require_user(caller)
        await self.owners.require(caller, user, body.account_id)
        await self.cache.ensure_loaded()
        limits = self.cache.limits(user, body.account_id) or Limits()
        _, start = trading_day(datetime.now(UTC), limits.day_boundary_tz, limits.day_boundary_time)
        async with self._engine().connect() as conn:
            rows = await self.positions.positions(conn, user, body.account_id)
            exposure = await self.positions.exposure(
                conn, body.account_id, "", [], day_start=start, minute_ago=start
            )
        held = net_holdings(rows)
        histories = await asyncio.gather(*(self._closes(caller, h, body) for h in held))
        closes = {h.symbol: bars for h, bars in zip(held, histories, strict=True)}
        result = portfolio_var({h.symbol: h.exposure for h in held}, closes, body.lookback)
        starting = limits.starting_balance
        equity = None if starting is None else exposure.equity(starting)
        measures = {
            f"{kind}_{int(c * 100)}": _measure(figures[c], equity)
            for kind, figures in (("historical", result.historical), ("parametric", result.parametric))
            for c in CONFIDENCES
        }
        reply = VarReply(
            account_id=body.account_id,
            timeframe=body.timeframe,
            lookback=body.lookback,
            bars=result.bars,
            from_ns=result.from_ns,
            to_ns=result.to_ns,
            symbols=held,
            insufficient_history=result.insufficient,
            equity=equity,
            **measures,
        )
        return reply, exposure, limits

    async def _closes(
        self, caller: CallerContext, holding: VarHolding, body: VarRequest
    ) -> list[tuple[int, Decimal]]:
        """The symbol's closed bars of the lookback window (oldest first); none if market-data has none."""
        width, now = WIDTH_NS[body.timeframe], time.time_ns()
        request = {
            "symbol": holding.symbol,
            "venue": holding.venue,
            "timeframe": body.timeframe,
            "from_ns": max(now - (body.lookback + 2) * width, 0),
            "to_ns": now,
            "limit": body.lookback + 2,
        }
        try:
            reply = await self._client().call_raw(
                "market-data", "candles", request, caller=caller, timeout_s=self.timeout_s
            )
        except RemoteError as error:
            if error.code in ("not_found", "validation_error"):
                return []
            raise
        bars = [(int(c["open_ns"]), Decimal(str(c["close"]))) for c in reply.get("candles", [])]
        return sorted(bar for bar in bars if bar[0] + width <= now)
