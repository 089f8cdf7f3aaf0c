"""Risk analytics of an account, bot or strategy: volatility, VaR/CVaR, beta to a benchmark."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_performance import PerformanceApi
from tradeloom.analytics.domain.equity import MarkBook
from tradeloom.analytics.domain.performance import returns_of
from tradeloom.analytics.domain.risk import against, tail_risk, volatility
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import RiskReply, RiskRequest, TailRisk
from tradeloom.shared.errors import field_invalid


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


class RiskApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], store: EquityStore, performance: PerformanceApi
    ) -> None:
        self._engine = engine
        self.store = store
        self.performance = performance

    async def risk(self, caller: CallerContext, body: RiskRequest) -> RiskReply:
        points, _ = await self.performance.series(caller, body)
        returns = returns_of(points)
        var, cvar = tail_risk(returns, body.confidence, body.simulations, body.seed)
        reply = RiskReply(
            scope=body.scope, id=body.id, days=len(points), confidence=body.confidence,
            volatility=_finite(volatility(returns)),
            var=TailRisk(historical=_finite(var.historical), parametric=_finite(var.parametric),
                         monte_carlo=_finite(var.monte_carlo)),
            cvar=TailRisk(historical=_finite(cvar.historical), parametric=_finite(cvar.parametric),
                          monte_carlo=_finite(cvar.monte_carlo)),
            var_amount=None if not points or math.isnan(var.historical)
            else (Decimal(repr(var.historical)) * points[-1].equity).quantize(Decimal("0.00000001")),
        )  # fmt: skip
        if body.benchmark is None or not points:
            return reply
        async with self._engine().connect() as conn:
            marks = MarkBook(await self.store.marks(conn, [body.benchmark]))
        prices = []
        for point in points:
            today, before = (
                marks.price_on(body.benchmark, point.day),
                marks.price_on(body.benchmark, point.day - timedelta(days=1)),
            )
            if today is None or before is None:
                raise field_invalid(
                    "benchmark", f"no price of {body.benchmark} on or before {point.day - timedelta(days=1)}"
                )
            prices.append(float(today[1]) / float(before[1]) - 1.0)
        beta, alpha, correlation = against(returns, np.array(prices))
        return reply.model_copy(
            update={"benchmark": body.benchmark, "beta": _finite(beta), "alpha": _finite(alpha),
                    "correlation": _finite(correlation)}
        )  # fmt: skip
