"""``options_portfolio_greeks``: an account's net Greeks per underlying from its held options (the
fold of its fills; an option symbol in ccxt's form ``BTC/USDT:USDT-270129-65000-C``) valued at
market-data's current option quotes (``option_quotes``), plus the underlying held (the math:
``domain/portfolio_greeks.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradeloom.analytics.api_trades import TradesApi
from tradeloom.analytics.domain.portfolio_greeks import HeldOption, portfolio_greeks
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import (
    HeldOptionGreeks,
    PortfolioGreeksReply,
    PortfolioGreeksRequest,
    UnderlyingGreeks,
)
from tradeloom.shared.rpc import ServiceClient

OPTION_SYMBOL = re.compile(r"^(?P<underlying>[^/:]+/[^/:]+):[^-]+-\d{6}-[0-9.]+-[CP]$")
SECONDS_PER_YEAR = 365.0 * 86_400


def _float(value: str | None) -> float | None:
    return None if value is None else float(value)


class PortfolioGreeksApi:
    def __init__(self, trades: TradesApi, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self.trades = trades
        self._client = client
        self.timeout_s = timeout_s

    async def portfolio_greeks(
        self, caller: CallerContext, body: PortfolioGreeksRequest
    ) -> PortfolioGreeksReply:
        held = await self.trades.held(caller, body.account_id)
        by_underlying: dict[str, list[str]] = {}
        for symbol in held:
            match = OPTION_SYMBOL.match(symbol)
            if match:
                by_underlying.setdefault(match["underlying"], []).append(symbol)
        options: list[HeldOption] = []
        spots: dict[str, float] = {}
        now = datetime.now(UTC)
        for underlying, symbols in sorted(by_underlying.items()):
            reply = await self._client().call_raw(
                "market-data", "option_quotes",
                {"underlying": underlying, "venue": body.venue, "symbols": sorted(symbols)},
                caller=caller, timeout_s=self.timeout_s,
            )  # fmt: skip
            spots[underlying] = float(reply["spot"])
            spot = spots[underlying]
            options += [
                self._held(q, underlying, spot, held[q["symbol"]], now)
                for q in reply["quotes"]
                if q["symbol"] in held
            ]
        underlying_held = {symbol: float(q) for symbol, q in held.items() if symbol in spots}
        rows = portfolio_greeks(options, underlying_held, spots)
        items = [
            UnderlyingGreeks(
                underlying=r.underlying, spot=r.spot, underlying_quantity=r.underlying_quantity,
                delta=r.delta, delta_value=r.delta_value, gamma=r.gamma, vega=r.vega, theta_day=r.theta_day,
                options=[HeldOptionGreeks(**leg.__dict__) for leg in r.legs],
            )
            for r in rows
        ]  # fmt: skip
        return PortfolioGreeksReply(
            account_id=body.account_id, delta_value=sum(r.delta_value for r in rows),
            vega=sum(r.vega for r in rows), theta_day=sum(r.theta_day for r in rows), underlyings=items,
        )  # fmt: skip

    @staticmethod
    def _held(
        quote: dict[str, Any], underlying: str, spot: float, quantity: Decimal, now: datetime
    ) -> HeldOption:
        years = (datetime.fromisoformat(quote["expiry"]) - now).total_seconds() / SECONDS_PER_YEAR
        return HeldOption(
            symbol=quote["symbol"], underlying=underlying, is_call=quote["option_type"] == "call",
            strike=float(quote["strike"]), years=years, quantity=float(quantity), spot=spot,
            bid=_float(quote["bid"]), ask=_float(quote["ask"]),
            model_volatility=float(quote["model_volatility"]),
        )  # fmt: skip
