"""The option chain of an underlying and expiry: market-data's option instruments (asked as the
caller), their quotes — a ccxt venue's imported ones (``venue_option_quotes``: bid/ask/last, with
the venue's own mark, IVs and Greeks shown beside ours), else the synthetic venue's model quotes
(``option_quotes``) — and per strike the call and the put with bid/ask/mid/last, the implied
volatility of each side (Black-Scholes-Merton, ``implied_vols``) and the Greeks at the mid's implied
volatility. Where market-data has no quotes (no trade of the underlying yet) the spot is analytics'
latest mark, the prices and volatilities are null and the Greeks are at the request's volatility."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import orjson
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_options import greeks_at
from tradeloom.analytics.chain_quotes import ExpiriesKey, ListedQuotes, chain_quotes, expiries_cache
from tradeloom.analytics.domain.chain_columns import (
    GREEK_NAMES,
    ChainColumns,
    chain_columns,
    chain_columns_of,
    number,
)
from tradeloom.analytics.domain.options import expiry_label
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.quant.options import Greeks
from tradeloom.quant.options.bsm import F64
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_chain import (
    ChainColumnsReply,
    GreeksColumns,
    VenueColumns,
)
from tradeloom.shared.contracts.analytics_options import (
    ChainReply,
    ChainRequest,
    ChainRow,
    ChainSide,
    VenueFigures,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user
from tradeloom.shared.rpc import JsonReply, RemoteError, ServiceClient
from tradeloom.shared.ttl_cache import TtlCache

SECONDS_PER_YEAR = 365.0 * 86_400
# Strikes per reply, so that it stays well under NATS's 1 MB max_payload (measured: ~0.85 kB a strike
# with synthetic quotes, ~1.3 kB with a venue's own figures); more: ``next_strike_from``.
MAX_STRIKES = 1_000
MAX_VENUE_STRIKES = 600
# A columns page from option_chain_quotes: ~0.5 kB a strike, so 2,000 strikes are ~1.0 MB, just under
# 1 MiB; a reply over max_payload - PAYLOAD_MARGIN (headers, envelope) is cut to MAX_STRIKES instead.
COLUMN_STRIKES = 2_000
PAYLOAD_MARGIN = 16 * 1024


class ChainApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], store: EquityStore,
        timeout_s: float, expiries: TtlCache[ExpiriesKey, dict[str, Any]] | None = None,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self.store = store
        self.timeout_s = timeout_s
        self.expiries = expiries or expiries_cache(0)

    async def chain(self, caller: CallerContext, body: ChainRequest) -> ChainReply:
        page = await self._page(caller, body)
        return ChainReply(
            **page.header(), items=_rows(page.columns, venue=page.quotes == "venue"),
            next_strike_from=page.next_strike_from,
        )  # fmt: skip

    async def columns(self, caller: CallerContext, body: ChainRequest) -> JsonReply:
        """The same figures as ``chain`` as plain columns: built without a model per strike and not
        validated again (its lists come from float arrays). From ``option_chain_quotes`` a page holds
        up to ``COLUMN_STRIKES`` (a whole 2,000-strike chain in one round trip) when it fits NATS's
        ``max_payload``, else ``MAX_STRIKES`` as the rows do; serialised here, to be measured."""
        page = await self._page(caller, body, columnar=True)
        budget = self._client().nc.max_payload - PAYLOAD_MARGIN
        return fitted(page, budget, MAX_STRIKES)

    async def _page(self, caller: CallerContext, body: ChainRequest, *, columnar: bool = False) -> Page:
        """One page of the chain; ``columnar``: from ``option_chain_quotes`` where market-data
        serves it (the synthetic quotes), else as the rows are, from the listing and quote ops."""
        require_user(caller)
        base, _, quote = body.underlying.upper().partition("/")
        underlying = f"{base}/{quote}"
        listing = await self.expiries.get_or_load(
            (underlying, body.venue),
            lambda: self._client().call_raw(
                "market-data", "option_expiries", {"underlying": underlying, "venue": body.venue},
                caller=caller, timeout_s=self.timeout_s,
            ),
        )  # fmt: skip
        now = datetime.now(UTC)
        expiries = [e for e in (datetime.fromisoformat(x["expiry"]) for x in listing["expiries"]) if e > now]
        if not expiries:
            raise NotFound(f"no listed options on {body.underlying} at {body.venue}")
        chosen = (
            expiries[0]
            if body.expiry is None
            else next((e for e in expiries if e.date() == body.expiry), None)
        )
        if chosen is None:
            raise field_invalid("expiry", f"no {body.underlying} options expire on {body.expiry}")
        if body.strike_from is not None and body.strike_to is not None and body.strike_from > body.strike_to:
            raise field_invalid("strike_to", "must not be below strike_from")
        window = {"strike_from": _wire(body.strike_from), "strike_to": _wire(body.strike_to)}
        if columnar:
            found = await chain_quotes(
                self._client(), caller, body.venue, underlying, chosen, window, COLUMN_STRIKES, self.timeout_s
            )
            if found is not None:
                return await self._columnar_page(body, underlying, chosen, expiries, found)
        listed = await self._client().call_raw(
            "market-data", "instruments",
            {"venue": body.venue, "kind": "option", "status": "active", "underlying": underlying,
             "expiry": chosen.date().isoformat(), **window, "limit": 2 * MAX_STRIKES + 1},
            caller=caller, timeout_s=self.timeout_s,
        )  # fmt: skip
        options = [item for item in listed["instruments"] if datetime.fromisoformat(item["expiry"]) == chosen]
        options, next_from = _page(options, MAX_STRIKES)
        if options:  # the quotes of this page's strikes only
            strikes = [Decimal(o["strike"]) for o in options]
            window = {"strike_from": _wire(min(strikes)), "strike_to": _wire(max(strikes))}
        quoted = await self._quotes(caller, body, underlying, chosen, window)
        if quoted.source == "venue":  # the venue's own figures make each side larger
            options, next_venue = _page(options, MAX_VENUE_STRIKES)
            next_from = next_venue if next_venue is not None else next_from
        spot = await self._spot(body, underlying, quoted.spot)
        years = (chosen - now).total_seconds() / SECONDS_PER_YEAR
        columns = chain_columns(
            options, quoted.by_symbol, float(spot), years, body.rate, body.dividend_yield, body.volatility
        )
        return Page(
            body, float(spot), chosen, expiries, years, quoted.source, quoted.ts_ns, columns, next_from
        )

    async def _columnar_page(
        self, body: ChainRequest, underlying: str, chosen: datetime, expiries: list[datetime],
        found: ListedQuotes,
    ) -> Page:  # fmt: skip
        spot = await self._spot(body, underlying, found.spot)
        years = (chosen - datetime.now(UTC)).total_seconds() / SECONDS_PER_YEAR
        columns = chain_columns_of(
            found.symbols, found.is_call, found.strike, found.bid, found.ask, spot, years, body.rate,
            body.dividend_yield, body.volatility,
        )  # fmt: skip
        source: Literal["synthetic", "none"] = "none" if found.spot is None else "synthetic"
        return Page(body, spot, chosen, expiries, years, source, None, columns, found.next_strike_from)

    async def _spot(self, body: ChainRequest, underlying: str, quoted: float | None) -> float:
        """The quotes' spot, else analytics' latest mark of the underlying (422 if none)."""
        if quoted is not None:
            return quoted
        async with self._engine().connect() as conn:
            mark = (await self.store.latest_marks(conn, [underlying])).get(underlying)
        if mark is None:
            raise field_invalid("underlying", f"no price of {body.underlying} seen yet")
        return float(mark)

    async def _quotes(
        self, caller: CallerContext, body: ChainRequest, underlying: str, expiry: datetime,
        page: dict[str, str | None],
    ) -> Quotes:  # fmt: skip
        """The expiry's quotes by symbol: a ccxt venue's imported ones where market-data has them,
        else the synthetic model's; none before a trade of the underlying."""
        asked = {"underlying": underlying, "venue": body.venue, "expiry": expiry.date().isoformat(), **page}
        for op in ("venue_option_quotes", "option_quotes"):
            try:
                reply = await self._client().call_raw(
                    "market-data", op, asked, caller=caller, timeout_s=self.timeout_s
                )
            except RemoteError as error:
                if error.code == "not_found":
                    continue
                raise
            by_symbol = {q["symbol"]: q for q in reply["quotes"]}
            if op == "option_quotes":
                return Quotes(by_symbol, float(reply["spot"]), "synthetic", None)
            spot = reply.get("underlying_price")
            return Quotes(
                by_symbol, None if spot is None else float(spot), "venue", reply.get("imported_at_ns")
            )
        return Quotes({}, None, "none", None)


@dataclass(frozen=True)
class Page:
    """One page of a chain: what both replies carry."""

    body: ChainRequest
    spot: float
    expiry: datetime
    expiries: list[datetime]
    years: float
    quotes: Literal["venue", "synthetic", "none"]
    quotes_ts_ns: int | None
    columns: ChainColumns
    next_strike_from: float | None

    def head(self, most: int) -> Page:
        """This page cut to its first ``most`` strikes (``next_strike_from`` the next one)."""
        c, n = self.columns, self.columns.n
        if n <= most:
            return self

        def cut(values: F64) -> F64:
            return np.concatenate([values[:most], values[n : n + most]])

        greeks = Greeks(**{name: cut(np.asarray(getattr(c.greeks, name))) for name in GREEK_NAMES})
        columns = ChainColumns(
            c.strikes[:most], c.symbols[:most] + c.symbols[n : n + most],
            c.quotes[:most] + c.quotes[n : n + most], cut(c.bid), cut(c.ask), cut(c.mid), cut(c.last),
            cut(c.iv_mid), cut(c.iv_bid), cut(c.iv_ask), greeks,
        )  # fmt: skip
        return replace(self, columns=columns, next_strike_from=c.strikes[most])

    def header(self) -> dict[str, Any]:
        return {
            "underlying": self.body.underlying, "venue": self.body.venue, "spot": self.spot,
            "expiry": self.expiry, "expiry_label": expiry_label(self.expiry.date()),
            "days_to_expiry": self.years * 365.0, "expiries": self.expiries, "quotes": self.quotes,
            "quotes_ts_ns": self.quotes_ts_ns,
        }  # fmt: skip


def fitted(page: Page, budget: int, fallback: int) -> JsonReply:
    """The page's columns reply, serialised, if it is within ``budget`` bytes (or holds at most
    ``fallback`` strikes), else the reply of its first ``fallback`` strikes."""
    data = columns_json(page)
    if page.columns.n > fallback and len(data) > budget:
        data = columns_json(page.head(fallback))
    return JsonReply(data)


def columns_json(page: Page) -> bytes:
    """``ChainColumnsReply``'s JSON: the head fields as pydantic writes them (``to_jsonable_python``:
    its datetime format), the columns written from their float arrays by orjson (``null`` for NaN
    and infinities, as ``nullable`` gives; no Python float or model per figure), in the model's
    field order. ``test_chain_columns`` checks it against the model."""
    c = page.columns
    fields: dict[str, Any] = to_jsonable_python(
        {**page.header(), "next_strike_from": page.next_strike_from, "format": "columns", "version": 1}
    )
    fields["strikes"] = np.asarray(c.strikes, dtype=np.float64)
    fields["call"] = _side_arrays(c, 0, page.quotes == "venue")
    fields["put"] = _side_arrays(c, c.n, page.quotes == "venue")
    ordered = {name: fields[name] for name in ChainColumnsReply.model_fields}
    return orjson.dumps(ordered, option=orjson.OPT_SERIALIZE_NUMPY)


def _side_arrays(c: ChainColumns, start: int, venue: bool) -> dict[str, Any]:
    """``SideColumns`` of the calls (``start`` 0) or the puts (``start`` n) as float arrays, NaN
    where the strike has no such option listed (``null`` on the wire), in the model's field order."""
    part = slice(start, start + c.n)
    symbols = c.symbols[part]
    absent = np.array([s is None for s in symbols], dtype=bool)

    def masked(values: F64) -> F64:
        return masked_all(absent, np.asarray(values, dtype=np.float64)[part])

    figures = None
    if venue:
        quotes = c.quotes[part]
        figures = {
            name: masked_all(absent, np.array([number(q.get(name)) for q in quotes], dtype=np.float64))
            for name in VenueColumns.model_fields
        }
    return {
        "symbol": symbols,
        "bid": masked(c.bid), "ask": masked(c.ask), "mid": masked(c.mid), "last": masked(c.last),
        "implied_volatility": masked(c.iv_mid), "bid_iv": masked(c.iv_bid), "ask_iv": masked(c.iv_ask),
        "greeks": {name: masked(getattr(c.greeks, name)) for name in GreeksColumns.model_fields},
        "venue": figures,
    }  # fmt: skip


@dataclass(frozen=True)
class Quotes:
    by_symbol: dict[str, dict[str, Any]]
    spot: float | None
    source: Literal["venue", "synthetic", "none"]
    ts_ns: int | None


def _venue_figures(quote: dict[str, Any]) -> VenueFigures:
    """The venue's own figures of a ``venue_option_quotes`` quote."""
    mark = quote.get("mark")
    return VenueFigures(
        mark=None if mark is None else float(mark),
        **{k: quote.get(k) for k in ("mark_iv", "bid_iv", "ask_iv", "delta", "gamma", "theta", "vega")},
    )


def _page(options: list[dict[str, Any]], most: int) -> tuple[list[dict[str, Any]], float | None]:
    """The options (ordered by strike) of the first ``most`` strikes, and the next strike if any."""
    strikes = sorted({Decimal(o["strike"]) for o in options})
    if len(strikes) <= most:
        return options, None
    return [o for o in options if Decimal(o["strike"]) < strikes[most]], float(strikes[most])


def _wire(value: float | Decimal | None) -> str | None:
    """A decimal string for the wire (``"60000"``, never ``"6E+4"``)."""
    if value is None:
        return None
    return format(Decimal(repr(value) if isinstance(value, float) else value).normalize(), "f")


def _rows(c: ChainColumns, *, venue: bool) -> list[ChainRow]:
    """The published reply's rows: a model per strike and side."""

    def side(index: int) -> ChainSide | None:
        symbol = c.symbols[index]
        if symbol is None:
            return None
        return ChainSide(
            symbol=symbol, bid=_or_none(c.bid[index]), ask=_or_none(c.ask[index]),
            mid=_or_none(c.mid[index]), last=_or_none(c.last[index]),
            implied_volatility=_or_none(c.iv_mid[index]), bid_iv=_or_none(c.iv_bid[index]),
            ask_iv=_or_none(c.iv_ask[index]), greeks=greeks_at(c.greeks, index),
            venue=_venue_figures(c.quotes[index]) if venue and c.quotes[index] else None,
        )  # fmt: skip

    return [ChainRow(strike=k, call=side(i), put=side(c.n + i)) for i, k in enumerate(c.strikes)]


def masked_all(absent: np.ndarray[Any, np.dtype[np.bool_]], values: F64) -> F64:
    return np.where(absent, np.nan, values)


def _or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
