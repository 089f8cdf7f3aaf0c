"""``option_chain_import`` (admins: import a ccxt venue's option chain now) and
``venue_option_quotes`` (everyone: the stored quotes of an underlying's options at that venue).

An import is validated against the venue's own market list: an unconfigured venue is 422 ``venue``,
an underlying the venue lists no options on 422 ``underlying``, an expiry day it lists none on 422
``expiry``; the venue not answering is 503 (retry later).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt.async_support as ccxt_async
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_subscriptions import Forbidden
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.sources.option_chain_import import ChainImportError, OptionChainImporter
from tradeloom.market_data.store.instruments_store import Strikes, list_instruments
from tradeloom.market_data.store.venue_option_quotes_store import venue_quotes
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.market_data_option_chain import (
    OptionChainImport,
    OptionChainImported,
    VenueOptionQuote,
    VenueOptionQuotesReply,
    VenueOptionQuotesRequest,
)
from tradeloom.shared.errors import NotFound, Unavailable, field_invalid, require_user


class OptionChainApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, importer: OptionChainImporter) -> None:
        self._engine = engine
        self.schema = schema
        self.importer = importer

    def handlers(self) -> dict[str, Any]:
        return {"option_chain_import": self.import_chain, "venue_option_quotes": self.quotes}

    async def import_chain(self, caller: CallerContext, body: OptionChainImport) -> OptionChainImported:
        require_user(caller)
        if "admin" not in caller.roles:
            raise Forbidden("only an admin may import market data")
        try:
            return await self.importer.import_chain(body.venue, body.underlying, body.expiry)
        except ChainImportError as error:
            raise field_invalid(error.field, str(error)) from None
        except ccxt_async.NetworkError as error:
            raise Unavailable(f"venue {body.venue} did not answer: {error}") from None

    async def quotes(self, _: CallerContext, body: VenueOptionQuotesRequest) -> VenueOptionQuotesReply:
        try:
            underlying = normalise_symbol(body.underlying)
        except SymbolError as error:
            raise field_invalid("underlying", str(error)) from None
        async with self._engine().connect() as conn:
            listed = await list_instruments(
                conn,
                self.schema,
                body.venue,
                "option",
                None,
                underlying=underlying,
                expiry=body.expiry,
                strikes=Strikes(body.strike_from, body.strike_to),
            )
            rows = {r.symbol: r for r in await venue_quotes(conn, self.schema, body.venue, underlying)}
        options = [
            i for i in listed
            if i.symbol in rows and i.expiry is not None and i.strike is not None
            and i.option_type is not None
        ]  # fmt: skip
        if not options:
            raise NotFound(
                f"no imported option quotes of {underlying} at {body.venue}",
                details={"underlying": underlying},
            )
        quotes = [_quote(i, rows[i.symbol]) for i in options]
        newest = max(quotes, key=lambda q: q.ts_ns)
        return VenueOptionQuotesReply(
            venue=body.venue, underlying=underlying, underlying_price=newest.underlying_price,
            imported_at_ns=newest.ts_ns, quotes=quotes,
        )  # fmt: skip


_STORED = (
    "bid", "ask", "last", "mark", "bid_iv", "ask_iv", "mark_iv", "delta", "gamma", "theta", "vega",
    "underlying_price", "ts_ns",
)  # fmt: skip


def _quote(instrument: Instrument, row: Any) -> VenueOptionQuote:
    return VenueOptionQuote.model_validate(
        {"symbol": instrument.symbol, "option_type": instrument.option_type, "strike": instrument.strike,
         "expiry": instrument.expiry, **{k: getattr(row, k) for k in _STORED}}
    )  # fmt: skip
