"""Equity curves, PnL by period, metrics, comparisons and the portfolio summary (thin handlers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.domain.performance import DayRow, Point, curve, metrics, periods, sum_rows
from tradeloom.analytics.ledger import quote_of
from tradeloom.analytics.owners import Owners
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import (
    MAX_DAYS,
    AccountSummary,
    CompareReply,
    CompareRequest,
    EquityCurve,
    EquityPoint,
    MetricsReply,
    PnlPeriod,
    PnlReply,
    PnlRequest,
    PortfolioSummary,
    RangeRequest,
    SummaryRequest,
)
from tradeloom.shared.errors import field_invalid, require_user

ZERO = Decimal(0)


def check_range(body: RangeRequest | CompareRequest) -> None:
    if body.start is not None and body.end is not None:
        if body.start > body.end:
            raise field_invalid("start", "start must be on or before end")
        if (body.end - body.start).days >= MAX_DAYS:
            raise field_invalid("end", f"a range spans at most {MAX_DAYS} days")


def day_rows(rows: Sequence[Any]) -> list[DayRow]:
    return [DayRow(r.day, Decimal(r.equity), Decimal(r.pnl), Decimal(r.exposure), r.trades) for r in rows]


class PerformanceApi:
    def __init__(self, engine: Callable[[], AsyncEngine], store: EquityStore, owners: Owners) -> None:
        self._engine = engine
        self.store = store
        self.owners = owners

    async def series(self, caller: CallerContext, body: RangeRequest) -> tuple[list[Point], Decimal]:
        """The owner-checked daily rows of the scope in range, as a curve on its capital."""
        user = require_user(caller)
        check_range(body)
        if body.scope == "account":
            info = await self.owners.account(caller, user, body.id)
            ids = [body.id]
        elif body.scope == "bot":
            await self.owners.bot(caller, user, body.id)
            ids = [body.id]
        else:
            ids = await self.owners.strategy_bots(caller, body.id)
        scope = "account" if body.scope == "account" else "bot"
        async with self._engine().connect() as conn:
            rows = await self.store.rows(conn, scope, ids, body.start, body.end)
            per_scope = [day_rows([row for row in rows if row.scope_id == scope_id]) for scope_id in ids]
            series = per_scope[0] if len(ids) == 1 else sum_rows(per_scope)
            capital = body.capital
            if capital is None:
                if body.scope != "account":
                    raise field_invalid(
                        "capital", f"a {body.scope} needs the capital its returns are measured on"
                    )
                capital = await self._account_capital(conn, caller, body.id, info)
        return curve(series, capital), capital

    async def _account_capital(self, conn: Any, caller: CallerContext, account_id: str, info: Any) -> Decimal:
        """Starting equity: order-router's balances now (at the latest marks) less the PnL so far."""
        info = info or await self.owners.account_info(caller, account_id)
        latest = await self.store.latest(conn, "account", account_id)
        fills, _, _ = await self.store.fills(conn, "account", account_id)
        quote = quote_of(fills[0].symbol) if fills else "USDT"
        balances = {item["asset"]: Decimal(item["total"]) for item in info["balances"]}
        marks = await self.store.latest_marks(
            conn, [f"{asset}/{quote}" for asset in balances if asset != quote]
        )
        total = sum(
            (amount if asset == quote else amount * marks.get(f"{asset}/{quote}", ZERO)
             for asset, amount in balances.items()),
            ZERO,
        )  # fmt: skip
        capital = total - (Decimal(latest.equity) if latest is not None else ZERO)
        if capital <= 0:
            raise field_invalid("capital", "the account's starting equity cannot be inferred: give capital")
        return capital

    async def equity(self, caller: CallerContext, body: RangeRequest) -> EquityCurve:
        points, capital = await self.series(caller, body)
        return EquityCurve(
            scope=body.scope,
            id=body.id,
            capital=capital,
            points=[
                EquityPoint(
                    day=p.day,
                    equity=p.equity,
                    pnl=p.pnl,
                    daily_return=p.return_,
                    drawdown=p.drawdown,
                    drawdown_pct=p.drawdown_pct,
                    exposure=p.exposure,
                    trades=p.trades,
                )
                for p in points
            ],
        )

    async def pnl(self, caller: CallerContext, body: PnlRequest) -> PnlReply:
        points, _ = await self.series(caller, body)
        items = [
            PnlPeriod(period=label, pnl=pnl, period_return=growth, trades=trades)
            for label, pnl, growth, trades in periods(points, body.period)
        ]
        return PnlReply(scope=body.scope, id=body.id, period=body.period, items=items)

    async def metrics(self, caller: CallerContext, body: RangeRequest) -> MetricsReply:
        points, capital = await self.series(caller, body)
        return MetricsReply(
            scope=body.scope, id=body.id, capital=capital, start=body.start, end=body.end,
            days=len(points), metrics=metrics(points),
        )  # fmt: skip

    async def compare(self, caller: CallerContext, body: CompareRequest) -> CompareReply:
        check_range(body)
        if len(set(body.ids)) != len(body.ids):
            raise field_invalid("ids", "ids must be distinct")
        items = []
        for scope_id in body.ids:
            one = RangeRequest(
                scope=body.scope, id=scope_id, start=body.start, end=body.end, capital=body.capital
            )
            items.append(await self.metrics(caller, one))
        return CompareReply(scope=body.scope, items=items)

    async def summary(self, caller: CallerContext, body: SummaryRequest) -> PortfolioSummary:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.store.summaries(conn, user)
        accounts = [
            AccountSummary(
                account_id=r.scope_id, day=r.day, net_pnl=Decimal(r.equity), day_pnl=Decimal(r.pnl),
                exposure=Decimal(r.exposure), trades=int(r.trades),
            )
            for r in rows
        ]  # fmt: skip
        return PortfolioSummary(
            accounts=accounts,
            net_pnl=sum((a.net_pnl for a in accounts), ZERO),
            day_pnl=sum((a.day_pnl for a in accounts), ZERO),
            exposure=sum((a.exposure for a in accounts), ZERO),
        )
