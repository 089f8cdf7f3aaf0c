"""A strategy's report over all its bots: bots (status, PnL, fills), active bots, metrics and
monthly PnL of the summed daily equity, best and worst symbols by net PnL (thin handler)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_performance import PerformanceApi
from tradeloom.analytics.api_trades import buckets
from tradeloom.analytics.domain.equity import Fill
from tradeloom.analytics.domain.performance import metrics, periods
from tradeloom.analytics.domain.trades import distribution
from tradeloom.analytics.owners import Owners
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import PnlPeriod, RangeRequest
from tradeloom.shared.contracts.analytics_portfolio import StrategyBot, StrategyReport, StrategyReportRequest
from tradeloom.shared.errors import require_user

ZERO = Decimal(0)


class StrategyReportApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: EquityStore,
        owners: Owners,
        performance: PerformanceApi,
    ) -> None:
        self._engine = engine
        self.store = store
        self.owners = owners
        self.performance = performance

    async def report(self, caller: CallerContext, body: StrategyReportRequest) -> StrategyReport:
        require_user(caller)
        bots = await self.owners.strategy_bot_items(caller, body.strategy_id)  # owner checked
        scope = RangeRequest(
            scope="strategy", id=body.strategy_id, start=body.start, end=body.end, capital=body.capital
        )
        points, _ = await self.performance.series(caller, scope)  # range checked
        ids = [bot["bot_id"] for bot in bots]
        fills: list[Fill] = []
        async with self._engine().connect() as conn:
            rows = await self.store.rows(conn, "bot", ids, body.start, body.end)
            for bot_id in ids:
                fills += [
                    fill
                    for fill in (await self.store.fills(conn, "bot", bot_id))[0]
                    if (body.start is None or fill.filled_at.date() >= body.start)
                    and (body.end is None or fill.filled_at.date() <= body.end)
                ]
        per_bot = [
            StrategyBot(
                bot_id=bot["bot_id"],
                name=str(bot.get("name", "")),
                status=str(bot.get("status", "")),
                net_pnl=sum((Decimal(r.pnl) for r in rows if r.scope_id == bot["bot_id"]), ZERO),
                trades=sum(int(r.trades) for r in rows if r.scope_id == bot["bot_id"]),
            )
            for bot in bots
        ]
        by_symbol = sorted(buckets(distribution(fills).by_symbol), key=lambda b: (-b.net_pnl, b.key))
        monthly = [
            PnlPeriod(period=label, pnl=pnl, period_return=growth, trades=trades)
            for label, pnl, growth, trades in periods(points, "month")
        ]
        return StrategyReport(
            strategy_id=body.strategy_id, bots=per_bot,
            active_bots=sum(b.status == "running" for b in per_bot), metrics=metrics(points),
            monthly=monthly, best_symbols=by_symbol[: body.top],
            worst_symbols=list(reversed(by_symbol))[: body.top],
        )  # fmt: skip
