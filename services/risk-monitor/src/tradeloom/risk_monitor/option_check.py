"""The option part of the pre-trade check: an option entry against ``max_net_delta`` and
``max_net_vega`` (the maths: ``domain/option_limits.py``).

The account's held options of the order's underlying and the order itself are valued at market-data's
synthetic quotes (``svc.market-data.option_quotes``). An order that only shrinks the option position
passes without quotes; for an entry, quotes that cannot be had refuse the order (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row

from tradeloom.risk_monitor.domain.limits import Limits
from tradeloom.risk_monitor.domain.option_limits import (
    OptionLeg,
    greek_refusals,
    net_greeks,
    underlying_of,
)
from tradeloom.risk_monitor.domain.positions import Position
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_options import OptionQuote, OptionQuotesReply
from tradeloom.shared.contracts.risk import RiskCheckRequest
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

SECONDS_PER_YEAR = 365.0 * 86_400


def needs_greeks(request: RiskCheckRequest, limits: Limits | None) -> bool:
    return (
        limits is not None
        and (limits.max_net_delta is not None or limits.max_net_vega is not None)
        and underlying_of(request.symbol) is not None
    )


def _leg(quote: OptionQuote, quantity: float, now: datetime) -> OptionLeg:
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
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self.timeout_s = timeout_s

    async def refusals(self, request: RiskCheckRequest, limits: Limits, rows: list[Row[Any]]) -> list[str]:
        """``rows``: the account's positions (``PositionsStore.positions``)."""
        underlying = underlying_of(request.symbol)
        assert underlying is not None
        held = {row.symbol: Decimal(row.quantity) for row in rows if row.quantity}
        if Position(quantity=held.get(request.symbol, Decimal(0))).reduces(request.side, request.quantity):
            return []
        options = {s: q for s, q in held.items() if underlying_of(s) == underlying}
        try:
            reply = await self._client().call_raw(
                "market-data",
                "option_quotes",
                {
                    "underlying": underlying,
                    "venue": request.venue,
                    "symbols": sorted({*options, request.symbol}),
                },
                caller=CallerContext(user_id=request.user_id),
                timeout_s=self.timeout_s,
            )
            quoted = OptionQuotesReply.model_validate(reply)
        except (ServiceError, ValidationError) as error:  # cannot value the order: refuse it
            return [f"option_quotes_unavailable: {type(error).__name__}: {error}"]
        quotes = {q.symbol: q for q in quoted.quotes}
        if request.symbol not in quotes or not options.keys() <= quotes.keys():
            return [f"option_quotes_unavailable: no quote for {request.symbol} or a held option"]
        now, spot = datetime.now(UTC), float(quoted.spot)
        legs = [_leg(quotes[s], float(q), now) for s, q in options.items()]
        signed = request.quantity if request.side == "buy" else -request.quantity
        order = _leg(quotes[request.symbol], float(signed), now)
        underlying_quantity = float(held.get(underlying, Decimal(0)))
        before = net_greeks(legs, underlying_quantity, spot)
        after = net_greeks([*legs, order], underlying_quantity, spot)
        return greek_refusals(before, after, limits.max_net_delta, limits.max_net_vega)
