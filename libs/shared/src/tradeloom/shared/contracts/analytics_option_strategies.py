"""Saved option strategies of analytics (``svc.analytics.option_strategies_*``): a user's multi-leg
option position on an underlying, revalued by analytics whenever a trade of the underlying moves its
price (coalesced: at most one revaluation per strategy per round), with the latest valuation stored,
so ``get`` answers without recomputing, and announced on
``analytics.evt.option_strategy_marked.v1.<option_strategy_id>``.

Legs are those of ``options_strategy`` with an absolute ``expiry`` (UTC) instead of
``expiry_years``: at each valuation the time to expiry is ``(expiry − as_of) / 365.25 days``, where
``as_of`` is the time of the trade that gave the price. A leg's volatility is given, or (omitted)
implied from the leg's latest mid quote (M2M worker and ``option_strategies_payoff``, whose
``LegVolatility`` says which was used). Model numbers
are float64 (a model's values, not ledger amounts); units as in ``analytics_options``.

Error codes: ``validation_error`` 422 naming the field (``legs.0.expiry``…), ``not_found`` 404 (an
unknown strategy or another user's).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.shared.contracts.analytics import SERVICE
from tradeloom.shared.contracts.analytics_options import Greeks, LegValue, Model
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.envelope import Event

STRATEGY_ID = r"^os-[a-f0-9]{32}$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SavedLeg(_Request):
    type: Literal["call", "put", "underlying"]
    quantity: float = Field(ge=-1e9, le=1e9, description="signed: positive long, negative short")
    entry_price: float = Field(ge=0, le=1e12, description="price paid (long) or received (short) per unit")
    strike: float | None = Field(default=None, ge=1e-8, le=1e12)
    expiry: dt.datetime | None = Field(default=None, description="the option's expiry (UTC)")
    volatility: float | None = Field(
        default=None, ge=1e-4, le=10,
        description="null on an option leg: implied from the leg's latest mid quote (M2M worker, payoff)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _option_fields(self) -> SavedLeg:
        if self.quantity == 0:
            raise ValueError("quantity must not be 0")
        if self.type != "underlying" and None in (self.strike, self.expiry):
            raise ValueError("an option leg needs strike and expiry")
        if self.expiry is not None and self.expiry.tzinfo is None:
            raise ValueError("expiry needs a time zone (UTC)")
        return self


class OptionStrategyCreate(_Request):
    name: str = Field(min_length=1, max_length=100)
    underlying: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="spot symbol")
    venue: str = Field(default="sim", min_length=1, max_length=32, description="whose trades move it")
    model: Model = "bsm"
    rate: float = Field(default=0.0, ge=-1, le=1)
    dividend_yield: float = Field(default=0.0, ge=-1, le=1)
    legs: list[SavedLeg] = Field(min_length=1, max_length=20)


class OptionStrategyRef(_Request):
    option_strategy_id: str = Field(pattern=STRATEGY_ID, examples=["os-" + "0" * 32])


class OptionStrategyListRequest(_Request):
    """No fields: the caller's saved strategies."""


class Valuation(_Reply):
    spot: float = Field(description="the underlying's price it was valued at")
    as_of: dt.datetime = Field(description="time of the trade that gave the price")
    value: float
    cost: float
    pnl: float
    greeks: Greeks = Field(description="of the whole position")
    legs: list[LegValue]


class OptionStrategyInfo(_Reply):
    option_strategy_id: str
    name: str
    underlying: str
    venue: str
    model: Model
    rate: float
    dividend_yield: float
    legs: list[SavedLeg]
    created_at: dt.datetime
    valuation: Valuation | None = Field(description="the latest; null until a trade of the underlying")


class OptionStrategyList(_Reply):
    items: list[OptionStrategyInfo]


class OptionStrategyDeleted(_Reply):
    option_strategy_id: str
    deleted: bool


class OptionStrategyPayoffRequest(_Request):
    option_strategy_id: str = Field(pattern=STRATEGY_ID, examples=["os-" + "0" * 32])
    price_from: float | None = Field(
        default=None, gt=0, le=1e12, description="lowest underlying price; default 0.7 × the latest price"
    )
    price_to: float | None = Field(
        default=None, gt=0, le=1e12, description="highest underlying price (> price_from); default 1.3 × it"
    )
    steps: int = Field(default=101, ge=2, le=1001, description="prices in the range, ends included")


class LegVolatility(_Reply):
    """The volatility a leg was valued with, and where it came from."""

    leg: int = Field(description="index in legs")
    volatility: float | None = Field(description="null: none (reason says why); the underlying: null")
    source: Literal["given", "implied_from_quote", "none", "underlying"]
    quote_mid: float | None = Field(default=None, description="the mid it was implied from")
    quote_symbol: str | None = Field(default=None, description="the option quoted")
    quotes: Literal["venue", "synthetic"] | None = Field(default=None, description="whose quote")
    reason: str | None = Field(default=None, description="why there is no volatility")


class PayoffLine(_Reply):
    label: Literal["expiry", "today"]
    at: dt.datetime = Field(description="when: the first leg expiry, or now")
    value: list[float] = Field(description="the position's value at each price")
    pnl: list[float] = Field(description="value − cost at each price")


class OptionStrategyPayoff(_Reply):
    option_strategy_id: str
    model: Model
    as_of: dt.datetime
    spot: float | None = Field(description="the underlying's latest price (null: none seen yet)")
    cost: float
    prices: list[float]
    curves: list[PayoffLine] = Field(
        description="at the first expiry (legs expiring then at intrinsic value, later ones at the model) "
        "and today (every leg at the model); a curve that needs a leg volatility that is none is left out"
    )
    volatilities: list[LegVolatility]


class OptionStrategyMarked(Event):
    """A saved option strategy was revalued at a new price of its underlying, on
    ``analytics.evt.option_strategy_marked.v1.<option_strategy_id>``."""

    domain: ClassVar[str] = "analytics"
    name: ClassVar[str] = "option_strategy_marked"
    major: ClassVar[int] = 1

    user_id: str
    option_strategy_id: str
    underlying: str
    venue: str
    valuation: Valuation


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("option_strategies_create", OptionStrategyCreate, OptionStrategyInfo, "Save an option strategy."),
    _rq("option_strategies_list", OptionStrategyListRequest, OptionStrategyList, "The caller's strategies."),
    _rq("option_strategies_get", OptionStrategyRef, OptionStrategyInfo, "One strategy, latest valuation."),
    _rq("option_strategies_delete", OptionStrategyRef, OptionStrategyDeleted, "Delete a saved strategy."),
    _rq(
        "option_strategies_payoff",
        OptionStrategyPayoffRequest,
        OptionStrategyPayoff,
        "Payoff at expiry and today's value curve of a saved strategy over a price range.",
    ),  # fmt: skip
)
EVENTS: tuple[EventContract, ...] = (
    EventContract(
        OptionStrategyMarked, "ANALYTICS", ("option_strategy_id",), "A saved option strategy revalued."
    ),
)
