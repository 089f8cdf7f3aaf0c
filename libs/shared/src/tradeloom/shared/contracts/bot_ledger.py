"""A bot's own view of its trading (``svc.strategy-runner.bots_orders|trades|positions|performance``).

Several bots may trade one account: each bot's orders are tagged with its ``client_order_id``
(``bot-<bot>-<bar>``), so its orders, executions, positions and PnL are kept apart from the
account's other orders (a sub-ledger per bot, fed by order-router's ``order_updated`` events).
Positions use the average-cost method; realised PnL is net of nothing (fees are reported apart,
``net_pnl`` = realised + unrealised − fees). The mark of an open position is market-data's latest
price (``mark_price`` null, and no unrealised PnL, when market-data does not answer).

Error codes: ``validation_error`` 422 naming the field, ``unauthorized`` 401, ``not_found`` 404
(unknown or another user's bot).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.bots import ID
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Signed

SERVICE = "strategy-runner"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BotLedgerPage(_Request):
    """A page of a bot's orders or trades, newest bar first."""

    bot_id: str = ID
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=128, description="next_cursor of the previous page")


class BotLedgerRef(_Request):
    bot_id: str = ID


class BotOrder(_Reply):
    client_order_id: str = Field(examples=["bot-0190f0a0000070008000000000000001-1704067200000000000"])
    order_id: str | None = Field(default=None, description="order-router's id, once it answered")
    symbol: str
    bar_ns: int = Field(description="open time of the bar whose decision sent it")
    side: str = Field(examples=["buy"])
    quantity: NonNegative
    filled_quantity: NonNegative
    average_price: NonNegative | None = None
    fees: NonNegative
    status: str = Field(examples=["filled"], description="order-router's status; `sending` until it answers")
    created_at: datetime
    executed_at: datetime | None = Field(default=None, description="when its last fill was recorded")


class BotOrderList(_Reply):
    bot_id: str
    items: list[BotOrder] = Field(description="newest bar first")
    next_cursor: str | None = None


class BotTrade(_Reply):
    """One order's execution (its fills so far at their average price)."""

    client_order_id: str
    order_id: str | None = None
    symbol: str
    bar_ns: int
    side: str
    quantity: NonNegative = Field(description="filled quantity")
    price: NonNegative = Field(description="average fill price")
    fee: NonNegative
    executed_at: datetime | None = None


class BotTradeList(_Reply):
    bot_id: str
    items: list[BotTrade] = Field(description="newest bar first")
    next_cursor: str | None = None


class BotPosition(_Reply):
    symbol: str
    quantity: Signed = Field(description="the bot's own holding (filled buys minus sells)")
    average_entry_price: NonNegative | None = Field(default=None, description="none when flat")
    mark_price: NonNegative | None = None
    realized_pnl: Signed
    unrealized_pnl: Signed | None = None


class BotPositions(_Reply):
    bot_id: str
    items: list[BotPosition] = Field(description="every symbol the bot traded")


class BotPerformance(_Reply):
    bot_id: str
    realized_pnl: Signed
    unrealized_pnl: Signed | None = Field(default=None, description="none when a mark was unavailable")
    fees: NonNegative
    net_pnl: Signed = Field(description="realised + unrealised (when known) − fees")
    executions: int = Field(ge=0, description="orders with at least one fill")
    round_trips: int = Field(ge=0, description="closed positions (back to flat)")
    winning_round_trips: int = Field(ge=0)
    win_rate: float | None = Field(default=None, ge=0, le=1, description="none before the first round trip")
    volume: NonNegative = Field(description="traded notional in the quote asset")


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("bots_orders", BotLedgerPage, BotOrderList, "A bot's own orders, newest bar first."),
    _rq("bots_trades", BotLedgerPage, BotTradeList, "A bot's executions, newest bar first."),
    _rq("bots_positions", BotLedgerRef, BotPositions, "A bot's positions with realised/unrealised PnL."),
    _rq("bots_performance", BotLedgerRef, BotPerformance, "A bot's PnL, fees, round trips, win rate."),
)
