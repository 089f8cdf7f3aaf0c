"""order-router's events about paper perpetual positions (part of the ``ORDERS`` stream).

``FundingPaid`` on ``orders.evt.funding_paid.v1.<account_id>``: one funding time settled on one
position, exactly once per account, symbol and funding time (the router's idempotency key).
``amount`` > 0: the position received funding into ``settle_asset``; < 0: it paid.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from tradeloom.shared.contracts.orders_common import ID, SYMBOL
from tradeloom.shared.contracts.spec import EventContract
from tradeloom.shared.contracts.wire import Positive, Signed
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


EVENTS: tuple[EventContract, ...] = (
    EventContract(FundingPaid, "ORDERS", ("account_id",), "A funding payment on a paper perp position."),
)
