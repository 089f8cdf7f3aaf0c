"""Portfolio balances and a strategy's report of analytics.

``svc.analytics.balances``: every account of the caller (paper and exchange) with its balances from
order-router, valued in ``valuation_asset`` at analytics' latest marks, and the totals per asset. A
service that does not answer is named in ``unavailable`` and the rest is shown (the accounts
analytics knows from fills are listed in ``known_accounts``).

``svc.analytics.strategy_report``: a strategy over all the caller's bots running it (from
strategy-runner): each bot's status, PnL and fills, how many run now, the metrics and monthly PnL of
their summed daily equity, and the symbols with the best and worst net PnL."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.analytics import ID, SERVICE, Bucket, PnlPeriod
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed

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


class StrategyReportRequest(_Request):
    strategy_id: str = ID
    start: dt.date | None = None
    end: dt.date | None = None
    capital: Positive = Field(description="equity the strategy's returns are measured on")
    top: int = Field(default=3, ge=1, le=20, description="how many best and worst symbols")


class StrategyBot(_Reply):
    bot_id: str
    name: str
    status: str = Field(description="strategy-runner's status: running, paused, stopped, halted, error")
    net_pnl: Signed = Field(description="over the range")
    trades: int = Field(ge=0, description="fills over the range")


class StrategyReport(_Reply):
    strategy_id: str
    bots: list[StrategyBot]
    active_bots: int = Field(ge=0, description="bots running now")
    metrics: dict[str, float | None] = Field(description="of the bots' summed daily equity (as metrics)")
    monthly: list[PnlPeriod]
    best_symbols: list[Bucket] = Field(description="highest net PnL first")
    worst_symbols: list[Bucket] = Field(description="lowest net PnL first")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "balances", BalancesRequest, PortfolioBalances,
        "Balances of every account of the caller, valued; services not answering are named.",
    ),
    RequestContract(
        SERVICE, "strategy_report", StrategyReportRequest, StrategyReport,
        "A strategy over all its bots: bots, active bots, metrics, monthly PnL, best and worst symbols.",
    ),
)  # fmt: skip
