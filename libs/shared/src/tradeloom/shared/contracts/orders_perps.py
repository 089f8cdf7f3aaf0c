"""order-router's events about paper perpetual positions (part of the ``ORDERS`` stream).

``FundingPaid`` on ``orders.evt.funding_paid.v1.<account_id>``: one funding time settled on one
position, exactly once per account, symbol and funding time (the router's idempotency key).
``amount`` > 0: the position received funding into ``settle_asset``; < 0: it paid.

``PerpLiquidated`` on ``orders.evt.perp_liquidated.v1.<account_id>``: a paper perp position closed
by the paper exchange because a market price crossed its liquidation price; exactly once per
account, symbol and position (``position_opened_ns``, the router's idempotency key). It closes at
``liquidation_price`` (not the crossing trade's price): the account loses exactly the position's
margin, ``realised_pnl`` + ``fee`` = −``margin``. risk-monitor folds it as the closing fill
``liq:<position_opened_ns>:<account_id>:<symbol>`` of the account's position.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from tradeloom.shared.contracts.orders_common import ID, POSITION_SIDE, SYMBOL
from tradeloom.shared.contracts.spec import EventContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed
from tradeloom.shared.envelope import Event


class FundingPaid(Event):
    """A funding payment on a paper perpetual position, settled into its settle asset's balance."""

    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "funding_paid"
    major: ClassVar[int] = 1

    user_id: str
    account_id: str = ID
    venue: str = Field(min_length=1, max_length=32, examples=["sim"])
    symbol: str = SYMBOL
    settle_asset: str = Field(min_length=1, max_length=32, examples=["USDT"])
    funding_time_ns: int = Field(ge=0, description="the funding time (ns since the epoch)")
    quantity: Signed = Field(description="the position in contracts (> 0 long, < 0 short)")
    contract_size: Positive
    mark_price: Positive
    rate: Signed = Field(description="fraction of the notional, per interval")
    amount: Signed = Field(description="> 0 received, < 0 paid (settle asset)")
    position_side: POSITION_SIDE | None = Field(
        default=None, description="hedge position mode: the long or the short position; null: one-way"
    )


class PerpLiquidated(Event):
    """A paper perpetual position liquidated: its open orders on the symbol were cancelled first."""

    domain: ClassVar[str] = "orders"
    name: ClassVar[str] = "perp_liquidated"
    major: ClassVar[int] = 1

    user_id: str
    account_id: str = ID
    venue: str = Field(min_length=1, max_length=32, examples=["sim"])
    symbol: str = SYMBOL
    settle_asset: str = Field(min_length=1, max_length=32, examples=["USDT"])
    position_opened_ns: int = Field(ge=0, description="when the position opened from flat (its id)")
    quantity: Signed = Field(description="the position closed, in contracts (> 0 long, < 0 short)")
    contract_size: Positive
    entry_price: Positive
    margin: NonNegative = Field(description="the position's margin, lost (settle asset)")
    margin_mode: Literal["isolated", "cross"] = Field(
        default="isolated", description="cross: the account's whole cross wallet stood behind it, and is lost"
    )
    liquidation_price: NonNegative = Field(description="the price it was closed at")
    mark_price: Positive = Field(description="the market price that crossed the liquidation price")
    realised_pnl: Signed = Field(description="quantity × contract size × (liquidation − entry) price")
    fee: NonNegative = Field(description="liquidation fee: what was left of the margin at the price")
    liquidated_at: datetime = Field(description="the time of the last trade of the batch that crossed it")
    canceled_order_ids: list[str] = Field(default_factory=list, description="its open orders on the symbol")
    position_side: POSITION_SIDE | None = Field(
        default=None, description="hedge position mode: the long or the short position; null: one-way"
    )


EVENTS: tuple[EventContract, ...] = (
    EventContract(FundingPaid, "ORDERS", ("account_id",), "A funding payment on a paper perp position."),
    EventContract(PerpLiquidated, "ORDERS", ("account_id",), "A paper perp position liquidated."),
)
