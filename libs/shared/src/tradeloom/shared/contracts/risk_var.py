"""risk-monitor's portfolio VaR/CVaR and risk score per account (``svc.risk-monitor.var``, ``risk_score``).

The account's positions (risk-monitor's fold, perpetuals in base units = contracts × contract size)
valued at the marks; each held symbol's returns from market-data's candles (asked as the caller),
aligned on the bars every priced symbol has. Historical: the portfolio PnL series = Σ exposure ×
the bar's return, VaR/CVaR from ``tradeloom.quant``. Parametric: variance-covariance (normal) of the
same returns. Figures are losses in the quote asset (0 when even the tail is a gain) and, when the
account's equity is known (its ``starting_balance`` limit + PnL folded from fills), fractions of it.
Error codes: ``validation_error`` 422 naming the field, ``not_found`` 404 (another user's account),
``unavailable`` 503 (market-data did not answer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tradeloom.shared.contracts.orders_common import Reply, Request
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Signed

SERVICE = "risk-monitor"
VarTimeframe = Literal["1h", "4h", "12h", "1d", "1w"]
MIN_LOOKBACK, MAX_LOOKBACK = 5, 2000
LOOKBACK = Field(default=250, ge=MIN_LOOKBACK, le=MAX_LOOKBACK, description="returns (bars − 1) used")


class VarRequest(Request):
    account_id: str = Field(min_length=1, max_length=64)
    timeframe: VarTimeframe = Field(default="1d", description="of the candles (one return per bar)")
    lookback: int = LOOKBACK


class VarMeasure(Reply):
    var: NonNegative = Field(description="loss not exceeded at the confidence, quote asset")
    cvar: NonNegative = Field(description="mean loss beyond the VaR (expected shortfall)")
    var_fraction: NonNegative | None = Field(default=None, description="of equity; null: equity unknown")
    cvar_fraction: NonNegative | None = Field(default=None, description="of equity; null: equity unknown")


class VarHolding(Reply):
    symbol: str
    venue: str | None = None
    quantity: Signed = Field(description="net, base units (perpetuals: contracts × contract size)")
    mark_price: Signed = Field(description="the last trade price seen, else the average entry")
    exposure: Signed = Field(description="quantity × mark price")


class VarReply(Reply):
    account_id: str
    timeframe: VarTimeframe
    lookback: int
    bars: int = Field(description="returns used (aligned bars of every priced symbol); 0: none")
    from_ns: int | None = Field(default=None, description="open of the first bar whose return is used")
    to_ns: int | None = Field(default=None, description="open of the last bar used")
    symbols: list[VarHolding] = Field(description="the positions in the portfolio, by symbol")
    insufficient_history: list[str] = Field(
        default_factory=list, description="held symbols with fewer than lookback + 1 bars: left out"
    )
    equity: Signed | None = Field(default=None, description="null: no starting_balance limit set")
    historical_95: VarMeasure
    historical_99: VarMeasure
    parametric_95: VarMeasure
    parametric_99: VarMeasure


class ScoreComponent(Reply):
    name: Literal["leverage", "daily_loss", "drawdown", "concentration", "var99"]
    value: Signed | None = Field(default=None, description="null: not measurable (no equity)")
    reference: Signed | None = Field(default=None, description="the value scoring 100 (the limit or default)")
    weight: NonNegative
    sub_score: NonNegative = Field(description="0..100: 100 × min(value / reference, 1)")


class RiskScoreReply(Reply):
    account_id: str
    score: int = Field(ge=1, le=100, description="1 calm .. 100 at or past every reference")
    components: list[ScoreComponent]
    var: VarReply = Field(description="the VaR the var99 component is taken from")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "var", VarRequest, VarReply,
        "Portfolio VaR and CVaR (historical and parametric, 95 % and 99 %) of one account.",
    ),
    RequestContract(
        SERVICE, "risk_score", VarRequest, RiskScoreReply,
        "A risk score 1..100 of one account with its weighted components.",
    ),
)  # fmt: skip
