"""Positions, exposure and PnL of the caller's accounts, marked at the last trade price seen.

A perpetual's position also shows its contracts, the account's leverage and margin mode for it, the
margin it uses and (isolated) its liquidation price estimate; the equity adds the perpetuals' PnL
and their margin used and free, their tiered maintenance margin, the worst margin pool's ratio and
every perpetual's liquidation price, cross ones included (``margins``, ``domain.margin``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.exposure import Holding, leverage, summarise, value_balances
from tradeloom.risk_monitor.domain.limits import Limits, trading_day
from tradeloom.risk_monitor.domain.perps import (
    DEFAULT_LEVERAGE,
    MarginMode,
    PerpConfig,
    contracts_of,
    is_perpetual,
    perp_equity,
    perp_margin,
)
from tradeloom.risk_monitor.margins import margin_of
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk_monitor import (
    BalanceMark,
    EquityInfo,
    EquityRequest,
    ExposureInfo,
    ExposureSplit,
    LimitsRef,
    PositionInfo,
    PositionList,
    PositionsRequest,
)
from tradeloom.shared.errors import field_invalid, require_user


def position_info(row: Row[Any], perps: PerpConfig) -> PositionInfo:
    quantity, entry = Decimal(row.quantity), Decimal(row.average_entry)
    mark = None if row.mark is None else Decimal(row.mark)
    info = PositionInfo(
        account_id=row.account_id,
        symbol=row.symbol,
        bot_id=row.bot_id or None,
        position_side=row.position_side or None,
        quantity=quantity,
        average_entry=entry,
        realised_pnl=Decimal(row.realised_pnl),
        fees=Decimal(row.fees),
        mark_price=mark,
        unrealised_pnl=None if mark is None else (mark - entry) * quantity,
        updated_at=row.updated_at,
        venue=row.venue or None,
    )
    if not is_perpetual(row.symbol):
        return info
    leverage = DEFAULT_LEVERAGE if row.leverage is None else Decimal(row.leverage)
    mode: MarginMode = "isolated" if row.margin_mode == "isolated" else "cross"
    margin = perp_margin(quantity, entry, mark, perps.terms(row.symbol, leverage, mode))
    return info.model_copy(
        update={
            "contracts": contracts_of(quantity, perps.size(row.symbol)),
            "leverage": leverage,
            "margin_mode": mode,
            "margin_used": margin.margin_used,
            "liquidation_price": margin.liquidation_price,
        }
    )


def holdings(rows: list[Row[Any]]) -> list[Holding]:
    return [
        Holding(
            row.symbol,
            row.venue,
            Decimal(row.quantity),
            Decimal(row.average_entry) if row.mark is None else Decimal(row.mark),
            row.position_side,
        )
        for row in rows
    ]


class PositionsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        positions: PositionsStore,
        cache: RiskCache,
        owners: Owners,
        perps: PerpConfig,
    ) -> None:
        self._engine = engine
        self.positions = positions
        self.cache = cache
        self.owners = owners
        self.perps = perps

    async def list(self, caller: CallerContext, body: PositionsRequest) -> PositionList:
        user = require_user(caller)
        if body.account_id is not None:
            await self.owners.require(caller, user, body.account_id, ask_router=False)
        async with self._engine().connect() as conn:
            rows = await self.positions.positions(conn, user, body.account_id)
        return PositionList(items=[position_info(row, self.perps) for row in rows])

    async def exposure(self, caller: CallerContext, body: LimitsRef) -> ExposureInfo:
        user = require_user(caller)
        if body.account_id is None:
            raise field_invalid("account_id", "an account is required")
        await self.owners.require(caller, user, body.account_id)
        await self.cache.ensure_loaded()
        limits = self.cache.limits(user, body.account_id) or Limits()
        day, start = trading_day(datetime.now(UTC), limits.day_boundary_tz, limits.day_boundary_time)
        async with self._engine().connect() as conn:
            rows = await self.positions.positions(conn, user, body.account_id)
            exposure = await self.positions.exposure(
                conn, body.account_id, "", [], day_start=start, minute_ago=start
            )
            high_water = await self.positions.day_high_water(conn, body.account_id, start)
        infos = [position_info(row, self.perps) for row in rows]
        summary = summarise(holdings(rows))
        return ExposureInfo(
            account_id=body.account_id,
            gross=summary.gross,
            net=summary.net,
            per_symbol=summary.per_symbol,
            realised_pnl=sum((info.realised_pnl - info.fees for info in infos), Decimal(0)),
            unrealised_pnl=sum((info.unrealised_pnl or Decimal(0) for info in infos), Decimal(0)),
            day_pnl=exposure.day_pnl,
            trading_day=day.isoformat(),
            day_high_water=high_water,
            day_drawdown=max(high_water - exposure.day_pnl, Decimal(0)),
            per_asset={
                name: ExposureSplit(gross=v.gross, net=v.net) for name, v in summary.per_asset.items()
            },
            per_venue={
                name: ExposureSplit(gross=v.gross, net=v.net) for name, v in summary.per_venue.items()
            },
            long=summary.long,
            short=summary.short,
            long_short_ratio=summary.long_short_ratio,
        )

    async def equity(self, caller: CallerContext, body: EquityRequest) -> EquityInfo:
        """order-router's balances of the account (its owner check too), valued at the marks."""
        require_user(caller)
        account = await self.owners.account(caller, body.account_id)
        balances = {str(item["asset"]): Decimal(str(item["total"])) for item in account.get("balances", [])}
        valuation = body.valuation_asset
        async with self._engine().connect() as conn:
            prices = await self.positions.prices(conn, [f"{asset}/{valuation}" for asset in balances])
            rows = await self.positions.positions(conn, require_user(caller), body.account_id)
        valued, equity = value_balances(balances, valuation, prices)
        perps = [position_info(row, self.perps) for row in rows if is_perpetual(row.symbol)]
        with_perps = perp_equity(
            equity,
            [
                (p.realised_pnl - p.fees + (p.unrealised_pnl or Decimal(0)), p.margin_used or Decimal(0))
                for p in perps
            ],
        )
        equity = with_perps.equity
        margin = margin_of(equity, rows, self.perps)
        gross = summarise(holdings(rows)).gross
        return EquityInfo(
            account_id=body.account_id,
            valuation_asset=valuation,
            balances=[
                BalanceMark(asset=v.asset, total=v.total, mark_price=v.price, value=v.value) for v in valued
            ],
            equity=equity,
            unpriced_assets=[v.asset for v in valued if v.price is None],
            gross_exposure=gross,
            leverage=leverage(gross, equity),
            perp_pnl=with_perps.perp_pnl,
            margin_used=with_perps.margin_used,
            margin_free=with_perps.margin_free,
            maintenance_margin=margin.maintenance_margin,
            margin_ratio=margin.margin_ratio,
            liquidation_prices=margin.liquidation_prices,
        )
