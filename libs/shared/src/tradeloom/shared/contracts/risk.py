"""Pre-trade risk check and the kill switch (``svc.risk-monitor.check``, ``risk.evt.halt|resume``).

order-router asks ``svc.risk-monitor.check`` before an order reaches a venue, with a short
deadline; no answer or an error rejects the order (fail closed). A halt (the kill switch) makes
order-router refuse new orders for one user (``scope="user"``) or everyone (``scope="global"``)
and cancel their open orders; a resume with the same scope (and user) lifts it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.shared.contracts.orders_common import ORDER_TYPE, SIDE
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed
from tradeloom.shared.envelope import Event

SERVICE = "risk-monitor"
HaltScope = Literal["user", "global"]


class RiskCheckRequest(BaseModel):
    """One order as order-router is about to send it (status ``pending_new``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    user_id: str = Field(min_length=1, max_length=128)
    account_id: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=64)
    client_order_id: str = Field(min_length=1, max_length=64)
    venue: str = Field(min_length=1, max_length=32, examples=["sim"])
    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    side: SIDE
    type: ORDER_TYPE
    quantity: Positive
    price: Positive | None = Field(default=None, description="limit price, if any")
    reference_price: Positive | None = Field(default=None, description="last trade price at submit")
    notional: NonNegative = Field(description="quantity × (price or reference price), in the quote asset")
    contract_size: Positive | None = Field(
        default=None, description="a perpetual's base units per contract (market-data's multiplier); null: spot"
    )
    position_side: Literal["long", "short"] | None = Field(
        default=None,
        description="hedge position mode: the position the order opens or closes (a closing order, "
        "sell long or buy short, only reduces: it passes like a reduce-only one); null: one-way or spot",
    )


class RiskCheckReply(BaseModel):
    """``approved`` false rejects the order with ``reason``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    approved: bool
    reason: str | None = Field(default=None, max_length=500, examples=["max_position_exceeded"])


class _HaltBase(Event):
    domain: ClassVar[str] = "risk"

    scope: HaltScope
    user_id: str | None = Field(default=None, min_length=1, max_length=128, description="scope user only")
    reason: str = Field(default="", max_length=500, examples=["daily loss limit"])

    @model_validator(mode="after")
    def _user_matches_scope(self) -> _HaltBase:
        if (self.scope == "user") != (self.user_id is not None):
            raise ValueError("user_id is required for scope 'user' and refused for scope 'global'")
        return self


class RiskHalt(_HaltBase):
    """The kill switch: refuse new orders of the user (or everyone) and cancel their open orders."""

    name: ClassVar[str] = "halt"
    major: ClassVar[int] = 1


class RiskResume(_HaltBase):
    """Lifts the halt of the same scope (and user)."""

    name: ClassVar[str] = "resume"
    major: ClassVar[int] = 1


class _AccountHaltBase(Event):
    domain: ClassVar[str] = "risk"

    user_id: str = Field(min_length=1, max_length=128)
    account_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=500)


class RiskAccountHalt(_AccountHaltBase):
    """The emergency stop of one account: refuse its new orders and cancel its open ones."""

    name: ClassVar[str] = "account_halt"
    major: ClassVar[int] = 1


class RiskAccountResume(_AccountHaltBase):
    """Lifts the emergency stop of the account."""

    name: ClassVar[str] = "account_resume"
    major: ClassVar[int] = 1


class FlattenPosition(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    quantity: Signed = Field(description="held now (long > 0, short < 0): close it with the opposite side")


class RiskFlatten(Event):
    """Close every position of the account: a hard limit was breached (``max_daily_loss_hard``, once
    per trading day) or an emergency stop asked for it. On ``risk.evt.flatten.v1.<account_id>``.
    """

    domain: ClassVar[str] = "risk"
    name: ClassVar[str] = "flatten"
    major: ClassVar[int] = 1

    user_id: str = Field(min_length=1, max_length=128)
    account_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=500, examples=["max_daily_loss_hard: loss 1200 >= 1000"])
    positions: list[FlattenPosition] = Field(max_length=1000)


EVENTS: tuple[EventContract, ...] = (
    EventContract(RiskHalt, "RISK", (), "Kill switch: refuse and cancel orders of a user or everyone."),
    EventContract(RiskResume, "RISK", (), "A halt is lifted."),
    EventContract(RiskAccountHalt, "RISK", ("account_id",), "Emergency stop of one account."),
    EventContract(RiskAccountResume, "RISK", ("account_id",), "The stop of one account is lifted."),
    EventContract(RiskFlatten, "RISK", ("account_id",), "Close every position of an account (hard limit)."),
)
REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(SERVICE, "check", RiskCheckRequest, RiskCheckReply, "Pre-trade check of one order."),
)
