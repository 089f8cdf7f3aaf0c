"""Alerts for the Greeks limits (``max_net_delta``, ``max_net_vega``), evaluated as the quotes move.

``option_book.OptionQuoteBook`` hands each refreshed chain of an underlying here (so at most once
per chain and refresh, a bounded rate whatever the quote traffic); every account holding options
of that underlying on that venue, with a Greeks limit, has its net delta and vega valued at the
chain (``domain/option_limits.net_greeks``, the pre-trade check's maths) and measured like the other
limits: ``approaching`` from ``alert_threshold_pct`` % (warning), ``breached`` at the limit
(critical), one alert per (account, limit, level, trading day), published on
``risk.evt.alert.v1.<account>`` (the ``alerts`` WebSocket channel) only when new. An account
holding an option the chain does not quote is not valued this round.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.risk_monitor.alerts import record_alert
from tradeloom.risk_monitor.cache import RiskCache
from tradeloom.risk_monitor.domain.limits import Limits, alert_level, trading_day
from tradeloom.risk_monitor.domain.option_limits import NetGreeks, net_greeks, underlying_of
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.option_check import quote_leg
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.contracts.market_data_options import OptionQuotesReply
from tradeloom.shared.contracts.risk_monitor import AlertInfo
from tradeloom.shared.db import check_schema_name
from tradeloom.shared.outbox import Outbox

Held = dict[tuple[str, str], dict[str, Decimal]]  # (user, account) → symbol → quantity


def greek_usage(greeks: NetGreeks, limits: Limits) -> list[tuple[str, Decimal, Decimal]]:
    """(limit, |net| value, limit value) of the Greeks limits set."""
    return [
        (name, Decimal(str(round(abs(value), 6))), limit)
        for name, value, limit in (
            ("max_net_delta", greeks.delta, limits.max_net_delta),
            ("max_net_vega", greeks.vega, limits.max_net_vega),
        )
        if limit is not None
    ]


class GreekAlerts:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        *,
        cache: RiskCache,
        store: RiskStore,
        outbox: Outbox,
        metrics: RiskMetrics | None = None,
    ) -> None:
        self._engine = engine
        self.s = check_schema_name(schema)
        self.cache = cache
        self.store = store
        self.outbox = outbox
        self.metrics = metrics or RiskMetrics(None)

    async def held_underlyings(self) -> set[tuple[str, str]]:
        """(venue, underlying) of every option held (a source of the quote book)."""
        async with self._engine().connect() as conn:
            rows = await conn.execute(
                text(f'SELECT DISTINCT venue, symbol FROM "{self.s}".positions WHERE quantity <> 0')
            )
            found = {(row.venue, underlying_of(row.symbol)) for row in rows}
        return {(venue, underlying) for venue, underlying in found if underlying is not None}

    async def on_quotes(self, venue: str, underlying: str, chain: OptionQuotesReply) -> list[AlertInfo]:
        await self.cache.ensure_loaded()
        raised: list[AlertInfo] = []
        async with self._engine().begin() as conn:
            for (user, account), held in (await self._held(conn, venue, underlying)).items():
                limits = self.cache.limits(user, account)
                if limits is None or (limits.max_net_delta is None and limits.max_net_vega is None):
                    continue
                greeks = self._value(held, underlying, chain)
                if greeks is not None:
                    raised += await self._raise(conn, user, account, greeks, limits)
        return raised

    async def _held(self, conn: AsyncConnection, venue: str, underlying: str) -> Held:
        rows = await conn.execute(
            text(
                "SELECT user_id, account_id, symbol, SUM(quantity) AS quantity "
                f'FROM "{self.s}".positions WHERE venue = :venue AND quantity <> 0 '
                "AND (symbol = :underlying OR symbol LIKE :prefix) GROUP BY user_id, account_id, symbol"
            ),
            {"venue": venue, "underlying": underlying, "prefix": underlying.replace("%", "") + ":%"},
        )
        held: Held = {}
        for row in rows:
            if row.symbol == underlying or underlying_of(row.symbol) == underlying:
                held.setdefault((row.user_id, row.account_id), {})[row.symbol] = Decimal(row.quantity)
        return {key: symbols for key, symbols in held.items() if set(symbols) != {underlying}}

    @staticmethod
    def _value(held: dict[str, Decimal], underlying: str, chain: OptionQuotesReply) -> NetGreeks | None:
        quotes = {q.symbol: q for q in chain.quotes}
        options = {s: q for s, q in held.items() if s != underlying}
        if not options.keys() <= quotes.keys():
            return None
        now = datetime.now(UTC)
        legs = [quote_leg(quotes[s], float(q), now) for s, q in options.items()]
        return net_greeks(legs, float(held.get(underlying, Decimal(0))), float(chain.spot))

    async def _raise(
        self, conn: AsyncConnection, user: str, account: str, greeks: NetGreeks, limits: Limits
    ) -> list[AlertInfo]:
        day, _ = trading_day(datetime.now(UTC), limits.day_boundary_tz, limits.day_boundary_time)
        raised: list[AlertInfo] = []
        for name, value, limit in greek_usage(greeks, limits):
            level = alert_level(value, limit, limits.alert_threshold_pct)
            if level is None:
                continue
            info = await record_alert(
                conn, self.store, self.outbox, self.metrics, user_id=user, account_id=account, name=name,
                level=level, episode=day.isoformat(), value=value, threshold=limit,
                message=f"{name} {level}: {value.normalize():f} of {limit.normalize():f}",
            )  # fmt: skip
            if info is not None:
                raised.append(info)
        return raised
