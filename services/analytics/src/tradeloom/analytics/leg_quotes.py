"""The latest quote of each saved leg that needs one (an option leg with no volatility given): from
market-data, a ccxt venue's imported quotes (``venue_option_quotes``) where it has them, else the
synthetic venue's model quotes (``option_quotes``), asked per expiry for the legs' strike range only
(a whole venue's quotes may be over NATS's 1 MB), as the strategy's owner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tradeloom.analytics.domain.option_marks import SavedLeg
from tradeloom.analytics.domain.payoff import LegQuote
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient


class LegQuotes:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self.timeout_s = timeout_s

    async def latest(
        self, caller: CallerContext, venue: str, underlying: str, legs: Sequence[SavedLeg]
    ) -> list[LegQuote | None]:
        """Each leg's quote (None: not wanted, i.e. a volatility is given, or none known)."""
        wanted = [
            n for n, leg in enumerate(legs)
            if leg.kind != "underlying" and leg.volatility is None and leg.expiry is not None
        ]  # fmt: skip
        found: list[LegQuote | None] = [None] * len(legs)
        for expiry in sorted({e for n in wanted if (e := legs[n].expiry) is not None}):
            same = [n for n in wanted if legs[n].expiry == expiry]
            strikes = [Decimal(repr(legs[n].strike)) for n in same]
            book = await self._book(caller, venue, underlying, expiry, (min(strikes), max(strikes)))
            for n in same:
                found[n] = _match(legs[n], book)
        return found

    async def _book(
        self,
        caller: CallerContext,
        venue: str,
        underlying: str,
        expiry: datetime,
        strikes: tuple[Decimal, Decimal],
    ) -> list[LegQuote]:
        asked = {"underlying": underlying, "venue": venue, "expiry": expiry.date().isoformat(),
                 "strike_from": _wire(strikes[0]), "strike_to": _wire(strikes[1])}  # fmt: skip
        for op, source in (("venue_option_quotes", "venue"), ("option_quotes", "synthetic")):
            try:
                reply = await self._client().call_raw(
                    "market-data", op, asked, caller=caller, timeout_s=self.timeout_s
                )
            except RemoteError as error:
                if error.code == "not_found":
                    continue
                raise
            quotes: list[dict[str, Any]] = reply["quotes"]
            if source == "synthetic":
                return [LegQuote(q, float(reply["spot"]), source) for q in quotes]
            return [
                LegQuote(q, float(q.get("underlying_price") or reply["underlying_price"]), source)
                for q in quotes
                if q.get("underlying_price") is not None or reply.get("underlying_price") is not None
            ]
        return []


def _match(leg: SavedLeg, book: list[LegQuote]) -> LegQuote | None:
    """The quote of the leg's option: same type, strike and expiry (to the second)."""
    for quoted in book:
        q = quoted.quote
        if (
            q.get("option_type") == leg.kind
            and Decimal(str(q["strike"])) == Decimal(repr(leg.strike))
            and leg.expiry is not None
            and abs((datetime.fromisoformat(q["expiry"]) - leg.expiry).total_seconds()) < 1
        ):
            return quoted
    return None


def _wire(value: Decimal) -> str:
    return format(value.normalize(), "f")
