"""The option chain of an underlying and expiry: market-data's option instruments (asked as the
caller), the underlying's latest price from analytics' marks, and per strike the call and the put
with their Greeks (Black-Scholes-Merton at the request's volatility: no venue quotes options here
yet, so bid/ask/last and the implied volatility are null)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_options import greeks_at
from tradeloom.analytics.domain.options import expiry_label
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.quant.options import bsm
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import ChainReply, ChainRequest, ChainRow, ChainSide
from tradeloom.shared.errors import NotFound, field_invalid, require_user
from tradeloom.shared.rpc import ServiceClient

SECONDS_PER_YEAR = 365.0 * 86_400


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
        listed = await self._client().call_raw(
            "market-data", "instruments", {"venue": body.venue, "kind": "option", "status": "active"},
            caller=caller, timeout_s=self.timeout_s,
        )  # fmt: skip
        now = datetime.now(UTC)
        options = [
            item for item in listed["instruments"]
            if item.get("underlying") == base and item["symbol"].startswith(f"{base}/{quote}:")
            and item.get("expiry") and datetime.fromisoformat(item["expiry"]) > now
        ]  # fmt: skip
        expiries = sorted({datetime.fromisoformat(item["expiry"]) for item in options})
        if not expiries:
            raise NotFound(f"no listed options on {body.underlying} at {body.venue}")
        chosen = (
            expiries[0]
            if body.expiry is None
            else next((e for e in expiries if e.date() == body.expiry), None)
        )
        if chosen is None:
            raise field_invalid("expiry", f"no {body.underlying} options expire on {body.expiry}")
        async with self._engine().connect() as conn:
            marks = await self.store.latest_marks(conn, [f"{base}/{quote}"])
        spot = marks.get(f"{base}/{quote}")
        if spot is None:
            raise field_invalid("underlying", f"no price of {body.underlying} seen yet")
        years = (chosen - now).total_seconds() / SECONDS_PER_YEAR
        return ChainReply(
            underlying=body.underlying, venue=body.venue, spot=float(spot), expiry=chosen,
            expiry_label=expiry_label(chosen.date()),
            days_to_expiry=years * 365.0, expiries=expiries,
            items=self._rows(body, [o for o in options if datetime.fromisoformat(o["expiry"]) == chosen],
                             float(spot), years),
        )  # fmt: skip

    @staticmethod
    def _rows(body: ChainRequest, options: list[dict[str, Any]], spot: float, years: float) -> list[ChainRow]:
        strikes = sorted({float(o["strike"]) for o in options})
        by_key = {(float(o["strike"]), o["option_type"]): o for o in options}
        g = bsm(
            np.array([True] * len(strikes) + [False] * len(strikes)), spot, np.array(strikes * 2), years,
            body.rate, body.dividend_yield, body.volatility,
        )  # fmt: skip

        def side(strike: float, kind: str, index: int) -> ChainSide | None:
            option = by_key.get((strike, kind))
            if option is None:
                return None
            return ChainSide(symbol=option["symbol"], bid=None, ask=None, last=None, implied_volatility=None,
                             greeks=greeks_at(g, index))  # fmt: skip

        n = len(strikes)
        return [
            ChainRow(strike=k, call=side(k, "call", i), put=side(k, "put", n + i))
            for i, k in enumerate(strikes)
        ]
