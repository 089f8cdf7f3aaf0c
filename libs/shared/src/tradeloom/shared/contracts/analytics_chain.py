"""The option chain as plain columns (``svc.analytics.options_chain_columns``, version 1).

Same request as ``options_chain`` (``ChainRequest``), same paging (``next_strike_from``; up to
2,000 strikes a reply where it fits NATS's payload limit, else 1,000 as ``options_chain``), same
figures; the reply carries one list per field instead of a model per strike: ``strikes[i]``'s call
is index ``i`` of every list of ``call``, its put index ``i`` of ``put``. ``null`` in a list: not
listed (``symbol`` null), not quoted, or no solution (an implied volatility outside the
no-arbitrage bounds). Made for large chains: a 2,000-strike chain's figures without 4,000 nested
objects to build, validate and serialise. The row reply (``options_chain``) is unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.analytics import SERVICE
from tradeloom.shared.contracts.analytics_options import ChainRequest
from tradeloom.shared.contracts.spec import RequestContract

Column = list[float | None]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class GreeksColumns(_Reply):
    """At the mid's implied volatility when known, else the request's ``volatility``."""

    price: Column
    delta: Column
    gamma: Column
    vega: Column = Field(description="per volatility point")
    theta: Column = Field(description="per year")
    theta_day: Column = Field(description="per calendar day")
    rho: Column = Field(description="per rate point")


class VenueColumns(_Reply):
    """The venue's own figures (``VenueFigures`` of ``options_chain``), in its units."""

    mark: Column
    mark_iv: Column
    bid_iv: Column
    ask_iv: Column
    delta: Column
    gamma: Column
    theta: Column
    vega: Column


class SideColumns(_Reply):
    """The calls (or the puts) of the page's strikes, one entry per strike."""

    symbol: list[str | None] = Field(description="null: no such option listed at this strike")
    bid: Column
    ask: Column
    mid: Column = Field(description="(bid + ask) / 2 when both are quoted")
    last: Column
    implied_volatility: Column = Field(description="of the mid (Black-Scholes-Merton)")
    bid_iv: Column
    ask_iv: Column
    greeks: GreeksColumns
    venue: VenueColumns | None = Field(default=None, description="null: not a ccxt venue's quotes")


class ChainColumnsReply(_Reply):
    format: Literal["columns"] = "columns"
    version: Literal[1] = 1
    underlying: str
    venue: str
    spot: float = Field(description="as in options_chain")
    expiry: dt.datetime
    expiry_label: Literal["weekly", "monthly", "quarterly"]
    days_to_expiry: float
    expiries: list[dt.datetime] = Field(description="every listed expiry of the underlying")
    quotes: Literal["venue", "synthetic", "none"]
    quotes_ts_ns: int | None = Field(default=None, description="when the venue's quotes were imported")
    strikes: list[float] = Field(description="ascending; index i of every column is this strike's")
    call: SideColumns
    put: SideColumns
    next_strike_from: float | None = Field(
        default=None,
        description="as in options_chain: the next page's strike_from; null: the range is complete",
    )


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE,
        "options_chain_columns",
        ChainRequest,
        ChainColumnsReply,
        "Option chain of an underlying and expiry with Greeks, as plain columns (one list per field).",
    ),  # fmt: skip
)
