"""Open positions and exposure by asset, and the distribution of trading (thin handlers)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_performance import PerformanceApi
from tradeloom.analytics.domain.equity import Fill
from tradeloom.analytics.domain.performance import returns_of
from tradeloom.analytics.domain.trades import Bucket as DomainBucket
from tradeloom.analytics.domain.trades import distribution, fold, histogram
from tradeloom.analytics.owners import Owners
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import (
    Bucket,
    DistributionReply,
    DistributionRequest,
    PositionsReply,
    PositionSummary,
    ScopeRef,
)
from tradeloom.shared.errors import require_user

ZERO = Decimal(0)


def buckets(table: dict[int, DomainBucket] | dict[str, DomainBucket]) -> list[Bucket]:
    return [
        Bucket(key=str(key), fills=b.fills, notional=b.notional, net_pnl=b.net_pnl)
        for key, b in sorted(table.items(), key=lambda item: item[0])
    ]


class TradesApi:
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

    async def _fills(self, caller: CallerContext, scope: str, scope_id: str) -> list[Fill]:
        """The owner-checked fills of an account, a bot or a strategy's bots."""
        user = require_user(caller)
        if scope == "account":
            await self.owners.account(caller, user, scope_id)
            ids, kind = [scope_id], "account"
        elif scope == "bot":
            await self.owners.bot(caller, user, scope_id)
            ids, kind = [scope_id], "bot"
        else:
            ids, kind = await self.owners.strategy_bots(caller, scope_id), "bot"
        fills: list[Fill] = []
        async with self._engine().connect() as conn:
            for one in ids:
                fills += (await self.store.fills(conn, kind, one))[0]
        return fills

    async def held(self, caller: CallerContext, account_id: str) -> dict[str, Decimal]:
        """The owner-checked account's non-zero positions by symbol (the fold of its fills)."""
        positions, _ = fold(await self._fills(caller, "account", account_id))
        return {symbol: p.quantity for symbol, p in positions.items() if p.quantity != 0}

    async def positions(self, caller: CallerContext, body: ScopeRef) -> PositionsReply:
        fills = await self._fills(caller, body.scope, body.id)
        positions, realised = fold(fills)
        last_fill = {fill.symbol: fill.price for fill, _ in realised}
        async with self._engine().connect() as conn:
            marks = await self.store.latest_marks(conn, sorted(positions))
        items: list[PositionSummary] = []
        exposure: dict[str, Decimal] = {}
        for symbol, position in sorted(positions.items()):
            if position.quantity == 0:
                continue
            mark = marks.get(symbol, last_fill[symbol])
            value = position.quantity * mark
            asset = symbol.split("/", 1)[0]
            exposure[asset] = exposure.get(asset, ZERO) + value
            items.append(
                PositionSummary(
                    symbol=symbol, quantity=position.quantity, average_entry=position.entry, mark=mark,
                    value=value, unrealised_pnl=(mark - position.entry) * position.quantity,
                    realised_pnl=position.realised, fees=position.fees,
                )
            )  # fmt: skip
        return PositionsReply(
            scope=body.scope, id=body.id, items=items, exposure_by_asset=exposure,
            gross=sum((abs(v) for v in exposure.values()), ZERO), net=sum(exposure.values(), ZERO),
            realised_pnl=sum((p.realised - p.fees for p in positions.values()), ZERO),
        )  # fmt: skip

    async def distribution(self, caller: CallerContext, body: DistributionRequest) -> DistributionReply:
        points, _ = await self.performance.series(caller, body)  # owner, range and capital checked
        fills = [
            fill
            for fill in await self._fills(caller, body.scope, body.id)
            if (body.start is None or fill.filled_at.date() >= body.start)
            and (body.end is None or fill.filled_at.date() <= body.end)
        ]
        table = distribution(fills)
        edges, counts = histogram(returns_of(points), body.bins)
        return DistributionReply(
            scope=body.scope, id=body.id, histogram_edges=edges, histogram_counts=counts,
            by_hour=buckets(table.by_hour), by_weekday=buckets(table.by_weekday),
            by_symbol=buckets(table.by_symbol),
        )  # fmt: skip
