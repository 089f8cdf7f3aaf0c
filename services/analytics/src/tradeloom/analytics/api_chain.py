"""The option chain of an underlying and expiry: market-data's option instruments (asked as the
caller), their quotes — a ccxt venue's imported ones (``venue_option_quotes``: bid/ask/last, with
the venue's own mark, IVs and Greeks shown beside ours), else the synthetic venue's model quotes
(``option_quotes``) — and per strike the call and the put with bid/ask/mid/last, the implied
volatility of each side (Black-Scholes-Merton, ``implied_vols``) and the Greeks at the mid's implied
volatility. Where market-data has no quotes (no trade of the underlying yet) the spot is analytics'
latest mark, the prices and volatilities are null and the Greeks are at the request's volatility."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_options import greeks_at
from tradeloom.analytics.domain.options import expiry_label
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.quant.options import bsm, implied_vols
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import (
    ChainReply,
    ChainRequest,
    ChainRow,
    ChainSide,
    VenueFigures,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user
from tradeloom.shared.rpc import RemoteError, ServiceClient

SECONDS_PER_YEAR = 365.0 * 86_400
# Strikes per reply, so that it stays well under NATS's 1 MB max_payload (measured: ~0.85 kB a strike
# with synthetic quotes, ~1.3 kB with a venue's own figures); more: ``next_strike_from``.
MAX_STRIKES = 1_000
MAX_VENUE_STRIKES = 600


class ChainApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], store: EquityStore,
        timeout_s: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self.store = store
        self.timeout_s = timeout_s

    async def chain(self, caller: CallerContext, body: ChainRequest) -> ChainReply:
        require_user(caller)
        base, _, quote = body.underlying.upper().partition("/")
        underlying = f"{base}/{quote}"
        listing = await self._client().call_raw(
            "market-data", "option_expiries", {"underlying": underlying, "venue": body.venue},
            caller=caller, timeout_s=self.timeout_s,
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
        page = {"strike_from": _wire(body.strike_from), "strike_to": _wire(body.strike_to)}
        listed = await self._client().call_raw(
            "market-data", "instruments",
            {"venue": body.venue, "kind": "option", "status": "active", "underlying": underlying,
             "expiry": chosen.date().isoformat(), **page, "limit": 2 * MAX_STRIKES + 1},
            caller=caller, timeout_s=self.timeout_s,
        )  # fmt: skip
        options = [item for item in listed["instruments"] if datetime.fromisoformat(item["expiry"]) == chosen]
        options, next_from = _page(options, MAX_STRIKES)
        if options:  # the quotes of this page's strikes only
            strikes = [Decimal(o["strike"]) for o in options]
            page = {"strike_from": _wire(min(strikes)), "strike_to": _wire(max(strikes))}
        quoted = await self._quotes(caller, body, underlying, chosen, page)
        if quoted.source == "venue":  # the venue's own figures make each side larger
            options, next_venue = _page(options, MAX_VENUE_STRIKES)
            next_from = next_venue if next_venue is not None else next_from
        quotes, spot = quoted.by_symbol, quoted.spot
        if spot is None:
            async with self._engine().connect() as conn:
                mark = (await self.store.latest_marks(conn, [f"{base}/{quote}"])).get(f"{base}/{quote}")
            spot = None if mark is None else float(mark)
        if spot is None:
            raise field_invalid("underlying", f"no price of {body.underlying} seen yet")
        years = (chosen - now).total_seconds() / SECONDS_PER_YEAR
        return ChainReply(
            underlying=body.underlying, venue=body.venue, spot=float(spot), expiry=chosen,
            expiry_label=expiry_label(chosen.date()),
            days_to_expiry=years * 365.0, expiries=expiries,
            items=self._rows(body, options, float(spot), years, quotes, venue=quoted.source == "venue"),
            quotes=quoted.source, quotes_ts_ns=quoted.ts_ns, next_strike_from=next_from,
        )  # fmt: skip

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

    @staticmethod
    def _rows(
        body: ChainRequest, options: list[dict[str, Any]], spot: float, years: float,
        quotes: dict[str, dict[str, Any]], *, venue: bool,
    ) -> list[ChainRow]:  # fmt: skip
        strikes = sorted({float(o["strike"]) for o in options})
        by_key = {(float(o["strike"]), o["option_type"]): o for o in options}
        n = len(strikes)
        is_call = np.array([True] * n + [False] * n)
        keys = [(k, "call") for k in strikes] + [(k, "put") for k in strikes]
        sides = [quotes.get(by_key[key]["symbol"], {}) if key in by_key else {} for key in keys]
        bid, ask = (np.array([_price(q.get(name)) for q in sides]) for name in ("bid", "ask"))
        mid = (bid + ask) / 2  # NaN unless both sides are quoted

        def ivs(prices: np.ndarray) -> np.ndarray:
            vols, _ = implied_vols(prices, is_call, spot, np.array(strikes * 2), years, body.rate,
                                   body.dividend_yield)  # fmt: skip
            return np.asarray(vols)

        iv_bid, iv_ask, iv_mid = ivs(bid), ivs(ask), ivs(mid)
        sigma = np.where(np.isfinite(iv_mid), iv_mid, body.volatility)
        g = bsm(is_call, spot, np.array(strikes * 2), years, body.rate, body.dividend_yield, sigma)

        def side(strike: float, kind: str, index: int) -> ChainSide | None:
            option = by_key.get((strike, kind))
            if option is None:
                return None
            return ChainSide(
                symbol=option["symbol"], bid=_or_none(bid[index]), ask=_or_none(ask[index]),
                mid=_or_none(mid[index]), last=_or_none(_price(sides[index].get("last"))),
                implied_volatility=_or_none(iv_mid[index]), bid_iv=_or_none(iv_bid[index]),
                ask_iv=_or_none(iv_ask[index]), greeks=greeks_at(g, index),
                venue=_venue_figures(sides[index]) if venue and sides[index] else None,
            )  # fmt: skip

        return [
            ChainRow(strike=k, call=side(k, "call", i), put=side(k, "put", n + i))
            for i, k in enumerate(strikes)
        ]


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


def _price(value: str | None) -> float:
    return float("nan") if value is None else float(value)


def _or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
