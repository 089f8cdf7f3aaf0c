"""What venue adapters take and give: plain frozen dataclasses with Decimal amounts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Side = Literal["buy", "sell"]
OrderKind = Literal[
    "market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "trailing_stop"
]
TimeInForce = Literal["GTC", "IOC", "FOK"]

OPEN_STATUSES = frozenset({"new", "partially_filled"})


@dataclass(frozen=True)
class PlaceOrder:
    """One order to send; ``client_order_id`` is how the venue and reconciliation find it again."""

    client_order_id: str
    symbol: str  # the venue's unified symbol, e.g. "BTC/USDT"
    side: Side
    kind: OrderKind
    quantity: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    post_only: bool = False
    trigger_price: Decimal | None = None  # stop_* and take_profit_* orders
    reduce_only: bool = False  # perpetuals: only reduce the (one-way) position
    leverage: int | None = None  # perpetuals: set on the venue before the first order (default 1)
    margin_mode: Literal["isolated", "cross"] = "cross"  # perpetuals (risk-monitor's default)
    position_side: Literal["long", "short"] | None = None  # perpetuals in hedge mode: which position
    trailing_percent: Decimal | None = None  # trailing_stop: the venue's native trailing order

    @property
    def is_limit(self) -> bool:
        return self.kind.endswith("limit")


@dataclass(frozen=True)
class VenueOrder:
    """An order as the venue reports it; ``status`` uses our state names."""

    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    kind: str
    status: str  # new | partially_filled | filled | canceled | rejected | expired
    quantity: Decimal
    filled: Decimal
    price: Decimal | None
    average_price: Decimal | None
    timestamp_ms: int | None
    trigger_price: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class VenueFill:
    """One execution; ``venue_fill_id`` is unique per venue (fills are applied once by it)."""

    venue_fill_id: str
    venue_order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_asset: str | None
    timestamp_ms: int
    is_maker: bool | None


@dataclass(frozen=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal
    total: Decimal


@dataclass(frozen=True)
class Permissions:
    """What the key may do; ``None`` where the venue (through ccxt) does not tell."""

    read: bool | None
    trade: bool | None
    withdraw: bool | None


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of "test connection": a live authenticated call, its latency and outcome."""

    ok: bool
    latency_ms: float
    answer: str
    error_code: str | None = None
    permissions: Permissions | None = None
