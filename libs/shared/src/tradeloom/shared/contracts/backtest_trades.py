"""A backtest's trade list (part of ``contracts.backtest``): filters, sorting and the records.

Filters combine (AND): ``side``, ``outcome`` (winners: PnL > 0, losers: PnL < 0), entry time in
``[from_ns, to_ns]``, PnL in ``[min_pnl, max_pnl]``, ``exit_reason``. ``sort_by`` orders the page
(ties by ``seq``; default ``seq``, i.e. entry order); a cursor is only valid for the same sort and
filters. The trade still open at the end of the data (``exit_reason`` ``end_of_data``, marked at the
last close) is in this list and in ``results.trade_count``, but not in ``metrics.trades``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal

ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000000"])
CURSOR = Field(default=None, max_length=64, description="next_cursor of the previous page")
MONEY = Field(examples=["10000"], allow_inf_nan=False)
ExitReasonName = Literal["signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data"]
TradeSort = Literal["seq", "pnl", "trade_return", "size", "fees", "mae", "mfe", "duration_bars"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TradesRequest(_Request):
    backtest_id: str = ID
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = CURSOR
    side: Literal["long", "short"] | None = None
    outcome: Literal["winners", "losers"] | None = Field(default=None, description="PnL > 0 or < 0")
    from_ns: int | None = Field(default=None, ge=0, le=2**63 - 1, description="entered at or after (UTC ns)")
    to_ns: int | None = Field(default=None, ge=0, le=2**63 - 1, description="entered at or before (UTC ns)")
    min_pnl: WireDecimal | None = Field(default=None, examples=["-100"], allow_inf_nan=False)
    max_pnl: WireDecimal | None = Field(default=None, examples=["250.5"], allow_inf_nan=False)
    exit_reason: ExitReasonName | None = None
    sort_by: TradeSort = "seq"
    descending: bool = False


class TradeRecord(_Reply):
    seq: int
    direction: Literal["long", "short"]
    entry_ns: int | None = None
    exit_ns: int | None = None
    entry_index: int
    exit_index: int
    entry_price: WireDecimal = MONEY
    exit_price: WireDecimal = MONEY
    size: WireDecimal = MONEY
    pnl: WireDecimal = MONEY
    trade_return: WireDecimal = Field(
        examples=["0.012"], allow_inf_nan=False, description="pnl / entry notional"
    )
    fees: WireDecimal = MONEY
    mae: float
    mfe: float
    exit_reason: ExitReasonName
    symbol: str | None = Field(default=None, description="a portfolio run's trade: its symbol")


class TradesPage(_Reply):
    items: list[TradeRecord]
    next_cursor: str | None = None
