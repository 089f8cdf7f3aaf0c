"""Option analytics of analytics (``svc.analytics.options_*``): Black-Scholes-Merton (with a
dividend or carry yield) or Black-76 price and Greeks, implied volatility, and the mark-to-market of
a multi-leg option position with its payoff across a range of underlying prices, and the option chain
of an underlying (market-data's option instruments) with the Greeks per strike.

Model inputs and outputs are float64 numbers (a model's values, not ledger amounts). Units: time in
years, rates, yields and volatilities as fractions (0.2 = 20 %); ``vega`` per volatility point,
``rho`` per rate point, ``theta`` per year and ``theta_day`` per calendar day (tradeloom.quant.options).
An implied volatility outside the no-arbitrage bounds is ``null`` with ``error`` ``no_solution``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.shared.contracts.analytics import SERVICE
from tradeloom.shared.contracts.spec import RequestContract

OptionType = Literal["call", "put"]
Model = Literal["bsm", "black76"]
MAX_BATCH = 10_000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Market(_Request):
    spot: float = Field(ge=1e-8, le=1e12, description="the underlying's price (the future's for black76)")
    rate: float = Field(default=0.0, ge=-1, le=1, description="continuously compounded risk-free rate")
    dividend_yield: float = Field(default=0.0, ge=-1, le=1, description="or carry yield (bsm only)")


class OptionQuote(_Market):
    type: OptionType
    strike: float = Field(ge=1e-8, le=1e12)
    expiry_years: float = Field(ge=1e-6, le=50, description="time to expiry in years (from 32 s)")


class GreeksItem(OptionQuote):
    volatility: float = Field(ge=1e-4, le=10)


class IvItem(OptionQuote):
    price: float = Field(ge=1e-12, le=1e12, description="the option's market price")


class GreeksRequest(_Request):
    model: Model = "bsm"
    items: list[GreeksItem] = Field(min_length=1, max_length=MAX_BATCH)


class IvRequest(_Request):
    model: Model = "bsm"
    items: list[IvItem] = Field(min_length=1, max_length=MAX_BATCH)


class Greeks(_Reply):
    price: float
    delta: float
    gamma: float
    vega: float = Field(description="per volatility point")
    theta: float = Field(description="per year")
    theta_day: float = Field(description="per calendar day")
    rho: float = Field(description="per rate point")


class GreeksReply(_Reply):
    model: Model
    items: list[Greeks]


class IvResult(_Reply):
    implied_volatility: float | None
    error: Literal["no_solution"] | None = None
    message: str | None = None
    greeks: Greeks | None = None


class IvReply(_Reply):
    model: Model
    items: list[IvResult]


class Leg(_Request):
    type: Literal["call", "put", "underlying"]
    quantity: float = Field(
        ge=-1e9, le=1e9, description="signed: positive long, negative short (× multiplier)"
    )
    entry_price: float = Field(ge=0, le=1e12, description="price paid (long) or received (short) per unit")
    strike: float | None = Field(default=None, ge=1e-8, le=1e12)
    expiry_years: float | None = Field(default=None, ge=1e-6, le=50)
    volatility: float | None = Field(default=None, ge=1e-4, le=10)

    @model_validator(mode="after")
    def _option_fields(self) -> Leg:
        if self.quantity == 0:
            raise ValueError("quantity must not be 0")
        if self.type != "underlying" and None in (self.strike, self.expiry_years, self.volatility):
            raise ValueError("an option leg needs strike, expiry_years and volatility")
        return self


class StrategyRequest(_Market):
    # range_low must be below range_high (and their defaults follow spot): the schema cannot say so
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "spot": 65000.0,
                    "rate": 0.03,
                    "dividend_yield": 0.0,
                    "model": "bsm",
                    "legs": [
                        {
                            "type": "call",
                            "quantity": 1.0,
                            "entry_price": 2500.0,
                            "strike": 70000.0,
                            "expiry_years": 0.25,
                            "volatility": 0.6,
                        },
                        {"type": "underlying", "quantity": -0.5, "entry_price": 65000.0},
                    ],
                    "range_low": 45000.0,
                    "range_high": 85000.0,
                    "points": 101,
                    "horizons_years": [0.125],
                }
            ]
        }
    )

    model: Model = "bsm"
    legs: list[Leg] = Field(min_length=1, max_length=20)
    range_low: float | None = Field(default=None, ge=1e-8, le=1e12, description="default: 0.7 × spot")
    range_high: float | None = Field(default=None, ge=1e-8, le=1e12, description="default: 1.3 × spot")
    points: int = Field(default=101, ge=2, le=1001)
    horizons_years: list[float] = Field(
        default_factory=list,
        max_length=10,
        description="also revalue after this much time has passed (<= 50)",
    )

    @model_validator(mode="after")
    def _range(self) -> StrategyRequest:
        low, high = self.range_low or 0.7 * self.spot, self.range_high or 1.3 * self.spot
        if low >= high:
            raise ValueError("range_low must be below range_high")
        if any(not 0 <= h <= 50 for h in self.horizons_years):
            raise ValueError("horizons_years must be between 0 and 50")
        return self


class LegValue(_Reply):
    value: float = Field(description="model value of the leg now (signed by quantity)")
    pnl: float
    greeks: Greeks = Field(description="of the position (× quantity)")


class PayoffCurve(_Reply):
    label: str = Field(description="'expiry' (the first leg's expiry) or 't+<years>'")
    horizon_years: float
    pnl: list[float]


class StrategyReply(_Reply):
    model: Model
    value: float = Field(description="model value of the position now")
    cost: float = Field(description="what opening it cost (entry prices × quantities)")
    pnl: float
    greeks: Greeks = Field(description="of the whole position")
    legs: list[LegValue]
    prices: list[float] = Field(description="underlying prices of the payoff curves")
    curves: list[PayoffCurve]


class ChainRequest(_Request):
    underlying: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="spot symbol")
    venue: str = Field(default="sim", min_length=1, max_length=32)
    expiry: dt.date | None = Field(default=None, description="UTC day of the expiry; default: the nearest")
    volatility: float = Field(
        ge=1e-4, le=10, description="for the Greeks where no price gives an implied one"
    )
    rate: float = Field(default=0.0, ge=-1, le=1)
    dividend_yield: float = Field(default=0.0, ge=-1, le=1)
    strike_from: float | None = Field(default=None, ge=0, description="strikes >= this only (a page's start)")
    strike_to: float | None = Field(default=None, ge=0, description="strikes <= this only")


class VenueFigures(_Reply):
    """What a ccxt venue publishes itself for an option (Binance: ``/eapi/v1/mark``); null where it
    does not. The Greeks are in the venue's units (Binance: theta per day, vega per volatility point)."""

    mark: float | None
    mark_iv: float | None
    bid_iv: float | None
    ask_iv: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None


class ChainSide(_Reply):
    symbol: str
    bid: float | None = Field(
        description="null: no quote known (the synthetic venue's quotes are model quotes)"
    )
    ask: float | None
    mid: float | None = Field(default=None, description="(bid + ask) / 2 when both are quoted")
    last: float | None
    implied_volatility: float | None = Field(description="from the mid price when known")
    bid_iv: float | None = Field(
        default=None, description="implied volatility of the bid (null: none or no solution)"
    )
    ask_iv: float | None = Field(
        default=None, description="implied volatility of the ask (null: none or no solution)"
    )
    greeks: Greeks = Field(description="at the implied volatility when known, else the request's")
    venue: VenueFigures | None = Field(
        default=None, description="the venue's own mark, IVs and Greeks beside ours (null: synthetic quotes)"
    )


class ChainRow(_Reply):
    strike: float
    call: ChainSide | None
    put: ChainSide | None


class ChainReply(_Reply):
    underlying: str
    venue: str
    spot: float = Field(
        description="the spot the quotes were made at (market-data's last trade); unquoted: analytics' latest mark"
    )
    expiry: dt.datetime
    expiry_label: Literal["weekly", "monthly", "quarterly"]
    days_to_expiry: float
    expiries: list[dt.datetime] = Field(description="every listed expiry of the underlying")
    items: list[ChainRow]
    quotes: Literal["venue", "synthetic", "none"] | None = Field(
        default=None,
        description="where bid/ask/last come from: a ccxt venue's imported quotes, the synthetic model, or none yet",
    )
    quotes_ts_ns: int | None = Field(default=None, description="when the venue's quotes were imported")
    next_strike_from: float | None = Field(
        default=None,
        description="more strikes in the range than one reply holds (1,000; 500 with a venue's own figures): "
        "ask again with strike_from = this; null: the range is complete",
    )


class PortfolioGreeksRequest(_Request):
    account_id: str = Field(min_length=1, max_length=64)
    venue: str = Field(default="sim", min_length=1, max_length=32, description="where the options are quoted")


class HeldOptionGreeks(_Reply):
    symbol: str
    quantity: float
    mid: float | None = Field(description="of the quote (the bid or ask alone when one side is quoted)")
    volatility: float = Field(description="the mid's implied volatility (the quote's model one: no solution)")
    delta: float = Field(description="position Greeks: per unit × quantity")
    gamma: float
    vega: float
    theta_day: float


class UnderlyingGreeks(_Reply):
    underlying: str = Field(examples=["BTC/USDT"])
    spot: float
    underlying_quantity: float = Field(description="of the underlying held (delta 1 each)")
    delta: float = Field(description="options' delta + the underlying held, in units of the underlying")
    delta_value: float = Field(description="delta × spot, in the quote asset")
    gamma: float
    vega: float = Field(description="per volatility point")
    theta_day: float
    options: list[HeldOptionGreeks]


class PortfolioGreeksReply(_Reply):
    account_id: str
    delta_value: float = Field(description="Σ per underlying")
    vega: float = Field(description="Σ per underlying")
    theta_day: float = Field(description="Σ per underlying")
    underlyings: list[UnderlyingGreeks]


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("options_greeks", GreeksRequest, GreeksReply, "Price and Greeks of European options (batch)."),
    _rq("options_iv", IvRequest, IvReply, "Implied volatility (no_solution outside the bounds), batch."),
    _rq("options_strategy", StrategyRequest, StrategyReply, "Multi-leg option position: M2M and payoff."),
    _rq("options_chain", ChainRequest, ChainReply, "Option chain of an underlying and expiry with Greeks."),
    _rq(
        "options_portfolio_greeks",
        PortfolioGreeksRequest,
        PortfolioGreeksReply,
        "Net delta, gamma, vega, theta of an account's held options (and underlying) at current quotes.",
    ),  # fmt: skip
)
