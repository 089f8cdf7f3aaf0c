"""Portfolio balances of analytics (``svc.analytics.balances``): every account of the caller (paper
and exchange) with its balances from order-router, valued in ``valuation_asset`` at analytics'
latest marks, and the totals per asset. A service that does not answer is named in ``unavailable``
and the rest is shown (the accounts analytics knows from fills are listed in ``known_accounts``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.analytics import SERVICE
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import NonNegative

VALUATION_ASSET = "USDT"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BalancesRequest(_Request):
    include_archived: bool = False


class AssetBalance(_Reply):
    asset: str
    free: NonNegative
    locked: NonNegative
    total: NonNegative
    value: NonNegative | None = Field(description="in the valuation asset; null: no price known")


class AccountBalances(_Reply):
    account_id: str
    name: str
    kind: Literal["paper", "exchange"]
    venue: str
    status: Literal["active", "archived"]
    balances: list[AssetBalance]
    value: NonNegative = Field(description="sum of the balances' values (those with a price)")
    unpriced_assets: list[str]


class PortfolioBalances(_Reply):
    valuation_asset: str
    accounts: list[AccountBalances]
    totals: list[AssetBalance] = Field(description="per asset over every account")
    value: NonNegative
    unavailable: list[str] = Field(description="services that did not answer: their part is missing")
    known_accounts: list[str] = Field(description="the caller's accounts seen in fills by analytics")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "balances", BalancesRequest, PortfolioBalances,
        "Balances of every account of the caller, valued; services not answering are named.",
    ),
)  # fmt: skip
