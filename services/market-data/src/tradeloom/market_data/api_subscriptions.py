"""``subscriptions_*``: admins start and stop the ingestion of a venue's symbol; everyone lists
what is ingested (from settings and from the API) with its status, last trade and lag.

Admins only, because market data is shared: one user's subscription is collected for (and paid
for by) the whole installation. Venues are the synthetic one and the ccxt venues configured in
``LIVE_SOURCES`` (their connection details — urls, options — are operator settings, not user
input). A ccxt symbol must be one of the venue's markets (stored at its ``load_markets``); on the
synthetic venue any well-formed symbol is simulated and gets a placeholder instrument.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.instruments import default_sim_instruments
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.gaps_store import gaps_by_symbol
from tradeloom.market_data.store.instruments_store import instrument_exists, upsert_instruments
from tradeloom.market_data.store.subscriptions_store import (
    last_trades,
    list_subscriptions,
    start_subscription,
    stop_subscription,
)
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_subscriptions import (
    Subscription,
    SubscriptionGap,
    SubscriptionRef,
    SubscriptionsListRequest,
    SubscriptionsReply,
    SubscriptionStart,
)
from tradeloom.shared.errors import Conflict, NotFound, ServiceError, field_invalid, require_user


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


def settings_symbols(settings: MarketDataSettings) -> dict[tuple[str, str], bool]:
    """(venue, symbol) → books, of everything the settings ingest."""
    named = {(settings.sim_venue, symbol): True for symbol in settings.sim_symbols}
    for live in settings.live_sources:
        named.update({(live.venue_name, symbol): live.books for symbol in live.symbols})
    return named


def _lag(ts_ns: int | None, now_ns: int) -> float | None:
    return None if ts_ns is None else max(0.0, (now_ns - ts_ns) / 1e9)


class SubscriptionsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], settings: MarketDataSettings, wake: asyncio.Event
    ) -> None:
        self._engine = engine
        self.settings = settings
        self.schema = settings.db_schema
        self.wake = wake
        self.live_venues = {live.venue_name for live in settings.live_sources}

    def handlers(self) -> dict[str, Any]:
        return {
            "subscriptions_start": self.start,
            "subscriptions_stop": self.stop,
            "subscriptions_list": self.list,
        }

    def _admin(self, caller: CallerContext) -> str:
        user = require_user(caller)
        if "admin" not in caller.roles:
            raise Forbidden("only an admin may start or stop the ingestion of market data")
        return user

    def _key(self, venue: str, symbol: str) -> tuple[str, str]:
        if venue != self.settings.sim_venue and venue not in self.live_venues:
            known = ", ".join(sorted({self.settings.sim_venue, *self.live_venues}))
            raise field_invalid("venue", f"unknown venue {venue!r}: known venues are {known}")
        try:
            normalised = normalise_symbol(symbol)
        except SymbolError as error:
            raise field_invalid("symbol", str(error)) from None
        if (venue, normalised) in settings_symbols(self.settings):
            raise Conflict(
                f"{normalised} on {venue} is ingested from the service's settings",
                details={"venue": venue, "symbol": normalised},
            )
        return venue, normalised

    async def start(self, caller: CallerContext, body: SubscriptionStart) -> Subscription:
        user = self._admin(caller)
        venue, symbol = self._key(body.venue, body.symbol)
        async with self._engine().begin() as connection:
            listed = await instrument_exists(connection, self.schema, venue, symbol)
            if venue == self.settings.sim_venue and not listed:  # an instruments file's entry stays
                await upsert_instruments(
                    connection, self.schema, default_sim_instruments(venue, [symbol]), "file"
                )
            elif not listed:
                raise field_invalid("symbol", f"{symbol} is not a market of venue {venue}")
            await start_subscription(connection, self.schema, venue, symbol, books=body.books, user=user)
        self.wake.set()
        return await self._one(venue, symbol)

    async def stop(self, caller: CallerContext, body: SubscriptionRef) -> Subscription:
        self._admin(caller)
        venue, symbol = self._key(body.venue, body.symbol)
        async with self._engine().begin() as connection:
            if not await stop_subscription(connection, self.schema, venue, symbol):
                raise NotFound(f"no subscription {symbol} on {venue}", details={"symbol": symbol})
        self.wake.set()
        return await self._one(venue, symbol)

    async def _one(self, venue: str, symbol: str) -> Subscription:
        reply = await self.list(CallerContext(), SubscriptionsListRequest(venue=venue))
        return next(s for s in reply.subscriptions if s.symbol == symbol)

    async def list(self, _: CallerContext, body: SubscriptionsListRequest) -> SubscriptionsReply:
        now = time.time_ns()
        async with self._engine().connect() as connection:
            rows = await list_subscriptions(connection, self.schema, body.venue)
            stored = await last_trades(connection, self.schema)
            gaps = await gaps_by_symbol(connection, self.schema)
        items = [
            Subscription(
                venue=venue, symbol=symbol, books=books, source="settings", desired="running",
                status="running", last_trade_ts_ns=trade.last_ts_ns if trade else None,
                last_price=trade.last_price if trade else None,
                lag_s=_lag(trade.last_ts_ns if trade else None, now), **_gaps(gaps.get((venue, symbol))),
            )
            for (venue, symbol), books in settings_symbols(self.settings).items()
            if body.venue is None or venue == body.venue
            for trade in [stored.get((venue, symbol))]
        ]  # fmt: skip
        items += [
            Subscription(
                venue=r.venue, symbol=r.symbol, books=r.books, source="api", desired=r.desired,
                status=r.status, error=r.error, created_by=r.created_by, created_at_ns=r.created_at_ns,
                status_at_ns=r.status_at_ns, last_trade_ts_ns=r.last_ts_ns, last_price=r.last_price,
                lag_s=_lag(r.last_ts_ns, now), **_gaps(gaps.get((r.venue, r.symbol))),
            )
            for r in rows
        ]  # fmt: skip
        return SubscriptionsReply(subscriptions=items)


def _gaps(row: Any) -> dict[str, Any]:
    """The gap fields of a listed subscription from its ``subscription_gaps`` row (none: defaults)."""
    if row is None:
        return {}
    last = SubscriptionGap(
        from_ns=row.last_gap_from_ns, to_ns=row.last_gap_to_ns, reason=row.last_gap_reason,
        missing_trades=row.last_gap_missing,
    )  # fmt: skip
    return {"gap_count": row.gap_count, "missing_trades": row.missing_trades, "last_gap": last}
