"""Paper trading accounts of order-router (``svc.order-router.accounts_*``).

A paper account belongs to one user, has starting balances per asset, its own maker/taker fee
rates and slippage model, and matches against market-data's trade stream of ``venue``. Reset
(back to the starting balances, every open order cancelled) and archive are audited. Another
user's account is ``not_found`` exactly like an unknown one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from tradeloom.shared.contracts.orders_common import ASSET, CURSOR, ID, LIMIT, Reply, Request
from tradeloom.shared.contracts.wire import NonNegative, Rate

SlippageModelName = Literal["none", "fixed", "percent"]
NAME = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["paper 1"])


class BalanceIn(Request):
    asset: str = ASSET
    amount: NonNegative


class PaperAccountCreate(Request):
    """A new paper account; ``balances`` default to 10,000 USDT."""

    name: str = NAME
    venue: str = Field(default="sim", min_length=1, max_length=32, description="market whose trades fill")
    balances: list[BalanceIn] = Field(
        default_factory=lambda: [BalanceIn(asset="USDT", amount=Decimal(10_000))], min_length=1, max_length=20
    )
    maker_fee_rate: Rate = Decimal("0.001")
    taker_fee_rate: Rate = Decimal("0.001")
    slippage_model: SlippageModelName = "none"
    slippage: NonNegative = Field(
        default=Decimal(0), description="fixed: price units; percent: fraction of the price"
    )
    queue_position: bool = Field(
        default=False,
        description="limit orders wait their turn: a trade at their price fills them only after the "
        "volume resting ahead of them there (market-data's book at acceptance) has traded",
    )


class AccountRef(Request):
    account_id: str = ID


class AccountReset(Request):
    """Back to the starting balances (or new ones); every open order is cancelled first."""

    account_id: str = ID
    balances: list[BalanceIn] | None = Field(default=None, min_length=1, max_length=20)


class AccountRiskFailOpen(Request):
    """Admin only: let this account's orders through when the risk check does not answer."""

    account_id: str = ID
    fail_open: bool
    reason: str = Field(min_length=1, max_length=500)


class AccountListRequest(Request):
    include_archived: bool = False
    limit: int = LIMIT
    cursor: str | None = CURSOR


class Balance(Reply):
    asset: str
    free: NonNegative
    locked: NonNegative = Field(description="held by open orders")
    total: NonNegative


class AccountInfo(Reply):
    account_id: str
    name: str
    kind: Literal["paper", "exchange"] = Field(
        description="exchange: trades through connection_id at a real venue"
    )
    venue: str
    status: Literal["active", "archived"]
    maker_fee_rate: Rate
    taker_fee_rate: Rate
    slippage_model: SlippageModelName
    slippage: NonNegative
    risk_fail_open: bool
    balances: list[Balance]
    created_at: datetime
    updated_at: datetime
    connection_id: str | None = Field(
        default=None, description="the exchange connection of an exchange account (null once deleted)"
    )
    queue_position: bool = Field(default=False, description="limit fills wait for the volume ahead")


class AccountList(Reply):
    items: list[AccountInfo]
    next_cursor: str | None = None


class WalletBalances(Reply):
    """One of the venue's separate wallets of an exchange account (Binance keeps spot, USDⓈ-M
    futures and options apart), as the venue last reported it: a mirror, refreshed by order-router's
    venue sync; the account's own ``balances`` stay our books of the account."""

    wallet: str = Field(max_length=32, description="spot | futures | options", examples=["futures"])
    balances: list[Balance]
    as_of: datetime = Field(description="when the venue was read")


class BalancesReply(Reply):
    account_id: str
    balances: list[Balance]
    wallets: list[WalletBalances] | None = Field(
        default=None,
        description="exchange accounts: the venue's wallets, each as last read (null: a paper "
        "account, or not read yet)",
    )
