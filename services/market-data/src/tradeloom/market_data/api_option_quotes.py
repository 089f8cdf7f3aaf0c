"""``option_quotes``: synthetic bid/ask of the listed options of an underlying (handler; the
quoting model is ``domain/option_quotes.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.option_quotes import OptionSpec
from tradeloom.market_data.domain.option_quotes import quotes as model_quotes
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.store import market_queries as q
from tradeloom.market_data.store.instruments_store import Strikes, list_instruments
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_options import OptionQuote, OptionQuotesReply, OptionQuotesRequest
from tradeloom.shared.errors import NotFound, field_invalid

DAY_NS = 86_400 * 1_000_000_000


class OptionQuotesApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], schema: str, default_venue: str, seed: int,
        fallback_vol: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self.schema = schema
        self.default_venue = default_venue
        self.seed = seed
        self.fallback_vol = fallback_vol

    async def option_quotes(self, _: CallerContext, body: OptionQuotesRequest) -> OptionQuotesReply:
        try:
            underlying = normalise_symbol(body.underlying)
        except SymbolError as error:
            raise field_invalid("underlying", str(error)) from None
        venue = body.venue or self.default_venue
        wanted = None if body.symbols is None else set(body.symbols)
        now_ns = time.time_ns()
        async with self._engine().connect() as conn:
            listed = await list_instruments(
                conn,
                self.schema,
                venue,
                "option",
                "active",
                underlying=underlying,
                expiry=body.expiry,
                strikes=Strikes(body.strike_from, body.strike_to),
            )
            state = await q.market_state(conn, self.schema, venue, underlying)
            stats = await q.window_stats(
                conn, self.schema, venue, underlying, from_ns=now_ns - DAY_NS, to_ns=now_ns
            )
        options = [
            i for i in listed
            if i.expiry is not None and i.strike is not None and i.option_type is not None
            and (wanted is None or i.symbol in wanted)
        ]  # fmt: skip
        if not options:
            raise NotFound(
                f"no listed options on {underlying} at {venue}", details={"underlying": underlying}
            )
        if state is None:
            raise NotFound(
                f"no trade of {underlying} on {venue} yet: no quotes", details={"underlying": underlying}
            )
        realised = q.annualised(float(stats.sd) if stats.sd is not None else None) or self.fallback_vol
        spot, now = float(state.last_price), datetime.now(UTC)
        specs = [
            OptionSpec(i.symbol, i.option_type, i.strike, i.expiry, i.tick_size)  # type: ignore[arg-type]
            for i in options
        ]
        made = [m for m in model_quotes(specs, spot, realised, now, self.seed) if m is not None]
        quotes = [
            OptionQuote(
                symbol=m.spec.symbol, option_type=m.spec.option_type, strike=m.spec.strike,
                expiry=m.spec.expiry, bid=m.bid, ask=m.ask, model_price=m.model_price,
                model_volatility=m.model_volatility,
            )
            for m in made
        ]  # fmt: skip
        return OptionQuotesReply(
            venue=venue, underlying=underlying, spot=state.last_price, spot_ts_ns=state.last_ts_ns,
            realised_volatility=realised, quotes=quotes,
        )  # fmt: skip
