"""The M2M worker: revalues every saved option strategy whose underlying's price moved.

``note`` is called for each batch of market-data trades analytics consumes (``md.evt.trade.>``,
through ``Ledger.on_trades``): it keeps the newest price per (venue, symbol) in memory. Every
``interval_s`` a round takes the symbols that moved since the last round and, for each strategy on
one of them not yet valued at a price that new, stores the valuation and writes
``analytics.evt.option_strategy_marked.v1.<option_strategy_id>`` to the outbox in the same
transaction. So a strategy is revalued at most once a round however many trades arrive (coalesced to
the newest price), and the update is conditional on the stored price time being older, so two
replicas never announce the same price twice. A leg saved without a volatility is valued at the one
implied from its latest mid quote (``leg_quotes``, asked as the owner before the write transaction);
a strategy with a leg that has none (no quote, no solution) is not revalued this round (logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.domain import option_marks, options
from tradeloom.analytics.domain.payoff import leg_vols
from tradeloom.analytics.leg_quotes import LegQuotes
from tradeloom.analytics.store.option_strategies_store import OptionStrategiesStore
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_option_strategies import OptionStrategyMarked, SavedLeg, Valuation
from tradeloom.shared.contracts.analytics_options import Greeks, LegValue
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.outbox import Outbox

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (venue, symbol)


def from_ns(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).replace(
        microsecond=ts_ns % 1_000_000_000 // 1000
    )


def domain_legs(legs: list[SavedLeg]) -> list[option_marks.SavedLeg]:
    return [
        option_marks.SavedLeg(leg.type, leg.quantity, leg.entry_price, leg.strike, leg.expiry, leg.volatility)
        for leg in legs
    ]


def valuation_of(
    row: Any, spot: float, as_of: datetime, legs: list[option_marks.SavedLeg] | None = None
) -> Valuation:
    """The strategy stored in ``row`` (or these ``legs`` of it, volatilities filled in) valued at
    ``spot`` seen at ``as_of`` (``ValueError``: no finite model value, or a leg has no volatility)."""
    market = options.Market(spot, row.rate, row.dividend_yield, row.model)
    legs = legs or domain_legs([SavedLeg.model_validate(leg) for leg in row.legs])
    if any(leg.volatility is None and leg.expiry is not None and leg.expiry > as_of for leg in legs):
        raise ValueError("a leg has no volatility (none given, none implied from a quote)")
    m = option_marks.mark(market, legs, as_of)
    return Valuation(
        spot=spot, as_of=as_of, value=m.value, cost=m.cost, pnl=m.pnl, greeks=Greeks(**m.greeks),
        legs=[LegValue(value=leg.value, pnl=leg.pnl, greeks=Greeks(**leg.greeks)) for leg in m.legs],
    )  # fmt: skip


class OptionMarker:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: OptionStrategiesStore,
        outbox: Callable[[], Outbox],
        *,
        interval_s: float,
        quotes: LegQuotes | None = None,
    ) -> None:
        self._engine = engine
        self.store = store
        self._outbox = outbox
        self.interval_s = interval_s
        self.quotes = quotes
        self._latest: dict[Key, tuple[float, int]] = {}
        self._moved: set[Key] = set()

    def note(self, venue: str, symbol: str, price: Decimal, ts_ns: int) -> None:
        """A trade of ``symbol`` at ``price`` (the newest one counts)."""
        key = (venue, symbol)
        seen = self._latest.get(key)
        if seen is None or ts_ns >= seen[1]:
            self._latest[key] = (float(price), ts_ns)
            self._moved.add(key)

    def again(self, venue: str, symbol: str) -> None:
        """Value the strategies of ``symbol`` at its newest known price in the next round (a new one)."""
        if (venue, symbol) in self._latest:
            self._moved.add((venue, symbol))

    async def round(self) -> int:
        """Revalue the strategies of the symbols that moved; how many were marked."""
        moved, self._moved = self._moved, set()
        marked = 0
        try:
            for venue, symbol in sorted(moved):
                spot, ts_ns = self._latest[(venue, symbol)]
                marked += await self._mark_symbol(venue, symbol, spot, ts_ns)
        except Exception:
            self._moved |= moved  # try these again next round
            raise
        return marked

    async def _mark_symbol(self, venue: str, symbol: str, spot: float, ts_ns: int) -> int:
        as_of, marked = from_ns(ts_ns), 0
        async with self._engine().connect() as conn:
            rows = await self.store.on_underlying(conn, venue, symbol, ts_ns)
        legs = {row.option_strategy_id: await self._legs(row, spot, as_of) for row in rows}
        async with self._engine().begin() as conn:
            for row in rows:
                try:
                    valuation = valuation_of(row, spot, as_of, legs[row.option_strategy_id])
                except ValueError as error:
                    log.warning("option strategy %s not valued: %s", row.option_strategy_id, error)
                    continue
                stored = valuation.model_dump(mode="json")
                if not await self.store.set_valuation(conn, row.option_strategy_id, stored, ts_ns):
                    continue
                event = OptionStrategyMarked(
                    user_id=row.user_id, option_strategy_id=row.option_strategy_id, underlying=symbol,
                    venue=venue, valuation=valuation,
                )  # fmt: skip
                await self._outbox().add(conn, event, row.option_strategy_id)
                marked += 1
        return marked

    async def _legs(self, row: Any, spot: float, as_of: datetime) -> list[option_marks.SavedLeg]:
        """The row's legs, a leg saved without a volatility given the one implied from its quote
        (left None when there is none: the strategy is then not valued)."""
        legs = domain_legs([SavedLeg.model_validate(leg) for leg in row.legs])
        if self.quotes is None or all(leg.kind == "underlying" or leg.volatility is not None for leg in legs):
            return legs
        try:
            quoted = await self.quotes.latest(
                CallerContext(user_id=row.user_id), row.venue, row.underlying, legs
            )
        except ServiceError as error:  # market-data away: valued in a later round
            log.warning("option strategy %s: no quotes for its volatility: %s", row.option_strategy_id, error)
            return legs
        market = options.Market(spot, row.rate, row.dividend_yield, row.model)
        vols = leg_vols(market, legs, quoted, as_of)
        return [replace(leg, volatility=v.volatility) for leg, v in zip(legs, vols, strict=True)]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except Exception as error:  # Postgres restarting: the next round tries again
                log.warning("option strategy mark round failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
