"""The option part of the pre-trade check: an option entry against ``max_net_delta`` and
``max_net_vega`` (the maths: ``domain/option_limits.py``).

The account's held options of the order's underlying and the order itself are valued at market-data's
synthetic quotes, read from the quote book kept fresh in the background (``option_book.py``), so a
check makes no request on the way and fits order-router's deadline. An order that only shrinks the
option position passes without quotes; for an entry, a chain older than the book's ``max_age_s``
(or none yet: the check makes the underlying wanted) refuses the order (``option_quotes_stale``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.risk_monitor.domain.limits import Limits
from tradeloom.risk_monitor.domain.option_limits import (
    OptionLeg,
    greek_refusals,
    net_greeks,
    underlying_of,
)
from tradeloom.risk_monitor.domain.positions import Position
from tradeloom.risk_monitor.option_book import OptionQuoteBook
from tradeloom.shared.contracts.market_data_options import OptionQuote
from tradeloom.shared.contracts.risk import RiskCheckRequest

SECONDS_PER_YEAR = 365.0 * 86_400


def needs_greeks(request: RiskCheckRequest, limits: Limits | None) -> bool:
    return (
        limits is not None
        and (limits.max_net_delta is not None or limits.max_net_vega is not None)
        and underlying_of(request.symbol) is not None
    )


def quote_leg(quote: OptionQuote, quantity: float, now: datetime) -> OptionLeg:
    return OptionLeg(
        is_call=quote.option_type == "call",
        strike=float(quote.strike),
        years=(quote.expiry - now).total_seconds() / SECONDS_PER_YEAR,
        quantity=quantity,
        bid=None if quote.bid is None else float(quote.bid),
        ask=float(quote.ask),
        model_volatility=quote.model_volatility,
    )


class OptionGreeksCheck:
    """Values the order at the quote book's chain (``option_book.py``): no request on the way."""

    def __init__(self, book: OptionQuoteBook) -> None:
        self.book = book

    async def refusals(self, request: RiskCheckRequest, limits: Limits, rows: list[Row[Any]]) -> list[str]:
        """``rows``: the account's positions (``PositionsStore.positions``)."""
        underlying = underlying_of(request.symbol)
        assert underlying is not None
        held = {row.symbol: Decimal(row.quantity) for row in rows if row.quantity}
        if Position(quantity=held.get(request.symbol, Decimal(0))).reduces(request.side, request.quantity):
            return []
        options = {s: q for s, q in held.items() if underlying_of(s) == underlying}
        quoted = self.book.fresh(request.venue, underlying)
        if quoted is None:  # cannot value the order at current quotes: refuse it
            return [
                f"option_quotes_stale: no quotes of {underlying} on {request.venue} from the last "
                f"{self.book.max_age_s:g} s (refreshed in the background)"
            ]
        quotes = {q.symbol: q for q in quoted.quotes}
        if request.symbol not in quotes or not options.keys() <= quotes.keys():
            return [f"option_quotes_unavailable: no quote for {request.symbol} or a held option"]
        now, spot = datetime.now(UTC), float(quoted.spot)
        legs = [quote_leg(quotes[s], float(q), now) for s, q in options.items()]
        signed = request.quantity if request.side == "buy" else -request.quantity
        order = quote_leg(quotes[request.symbol], float(signed), now)
        underlying_quantity = float(held.get(underlying, Decimal(0)))
        before = net_greeks(legs, underlying_quantity, spot)
        after = net_greeks([*legs, order], underlying_quantity, spot)
        return greek_refusals(before, after, limits.max_net_delta, limits.max_net_vega)
