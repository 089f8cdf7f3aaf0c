"""Saved option strategies: create, list, get (with the latest valuation stored by the M2M worker,
``option_marker``) and delete; another user's strategy is ``not_found`` like an unknown one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.domain import options
from tradeloom.analytics.domain.payoff import leg_vols, payoff
from tradeloom.analytics.leg_quotes import LegQuotes
from tradeloom.analytics.option_marker import OptionMarker, domain_legs
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.option_strategies_store import OptionStrategiesStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_option_strategies import LegVolatility as LegVolatilityReply
from tradeloom.shared.contracts.analytics_option_strategies import (
    OptionStrategyCreate,
    OptionStrategyDeleted,
    OptionStrategyInfo,
    OptionStrategyList,
    OptionStrategyListRequest,
    OptionStrategyPayoff,
    OptionStrategyPayoffRequest,
    OptionStrategyRef,
    PayoffLine,
    SavedLeg,
    Valuation,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user


def strategy_info(row: Any) -> OptionStrategyInfo:
    return OptionStrategyInfo(
        option_strategy_id=row.option_strategy_id, name=row.name, underlying=row.underlying,
        venue=row.venue, model=row.model, rate=row.rate, dividend_yield=row.dividend_yield,
        legs=[SavedLeg.model_validate(leg) for leg in row.legs], created_at=row.created_at,
        valuation=None if row.valuation is None else Valuation.model_validate(row.valuation),
    )  # fmt: skip


class OptionStrategiesApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: OptionStrategiesStore,
        marker: OptionMarker,
        quotes: LegQuotes,
        marks: EquityStore,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self.store = store
        self.marker = marker
        self.quotes = quotes
        self.marks = marks
        self.now = now

    async def create(self, caller: CallerContext, body: OptionStrategyCreate) -> OptionStrategyInfo:
        user = require_user(caller)
        now = self.now()
        for n, leg in enumerate(body.legs):
            if leg.expiry is not None and leg.expiry <= now:
                raise field_invalid(f"legs.{n}.expiry", "already expired")
        row = {
            "option_strategy_id": f"os-{uuid.uuid4().hex}", "user_id": user, "name": body.name,
            "underlying": body.underlying, "venue": body.venue, "model": body.model, "rate": body.rate,
            "dividend_yield": body.dividend_yield, "legs": [leg.model_dump(mode="json") for leg in body.legs],
        }  # fmt: skip
        async with self._engine().begin() as conn:
            stored = await self.store.add(conn, row)
        self.marker.again(body.venue, body.underlying)  # valued at once if a price is known
        return strategy_info(stored)

    async def list(self, caller: CallerContext, body: OptionStrategyListRequest) -> OptionStrategyList:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.store.of_user(conn, user)
        return OptionStrategyList(items=[strategy_info(row) for row in rows])

    async def get(self, caller: CallerContext, body: OptionStrategyRef) -> OptionStrategyInfo:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, user, body.option_strategy_id)
        if row is None:
            raise NotFound(f"option strategy {body.option_strategy_id} not found")
        return strategy_info(row)

    async def delete(self, caller: CallerContext, body: OptionStrategyRef) -> OptionStrategyDeleted:
        user = require_user(caller)
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, user, body.option_strategy_id):
                raise NotFound(f"option strategy {body.option_strategy_id} not found")
        return OptionStrategyDeleted(option_strategy_id=body.option_strategy_id, deleted=True)

    async def payoff(self, caller: CallerContext, body: OptionStrategyPayoffRequest) -> OptionStrategyPayoff:
        """Value and PnL across a price range at the first expiry and today, each leg at its given
        volatility or one implied from its latest mid quote (``domain.payoff``)."""
        user = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, user, body.option_strategy_id)
            if row is None:
                raise NotFound(f"option strategy {body.option_strategy_id} not found")
            mark = (await self.marks.latest_marks(conn, [row.underlying])).get(row.underlying)
        spot = None if mark is None else float(mark)
        if (body.price_from is None or body.price_to is None) and spot is None:
            missing = "price_from" if body.price_from is None else "price_to"
            raise field_invalid(
                missing, f"no price of {row.underlying} seen yet: give price_from and price_to"
            )
        low = body.price_from if body.price_from is not None else 0.7 * (spot or 0.0)
        high = body.price_to if body.price_to is not None else 1.3 * (spot or 0.0)
        if high <= low:
            raise field_invalid("price_to", f"must be above price_from ({low:g})")
        saved = domain_legs([SavedLeg.model_validate(leg) for leg in row.legs])
        market = options.Market(spot or low, row.rate, row.dividend_yield, row.model)
        as_of = self.now()
        quoted = await self.quotes.latest(caller, row.venue, row.underlying, saved)
        vols = leg_vols(market, saved, quoted, as_of)
        prices = np.linspace(low, high, body.steps)
        cost = sum(leg.entry_price * leg.quantity for leg in saved)
        lines = payoff(market, saved, vols, prices, as_of)
        if not all(np.isfinite(line.value).all() for line in lines):
            raise field_invalid("price_from", "the model has no finite value over this range")
        return OptionStrategyPayoff(
            option_strategy_id=row.option_strategy_id, model=row.model, as_of=as_of, spot=spot, cost=cost,
            prices=prices.tolist(),
            curves=[PayoffLine(label=line.label, at=line.at, value=line.value.tolist(),
                               pnl=(line.value - cost).tolist()) for line in lines],
            volatilities=[LegVolatilityReply(leg=n, volatility=v.volatility, source=v.source,
                                             quote_mid=v.quote_mid, quote_symbol=v.quote_symbol,
                                             quotes=v.quotes, reason=v.reason)
                          for n, v in enumerate(vols)],
        )  # fmt: skip
