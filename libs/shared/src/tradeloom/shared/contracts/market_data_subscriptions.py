"""Ingestion subscriptions (``svc.market-data.subscriptions_*``; part of the market-data contracts).

A subscription is one symbol of one venue that market-data ingests (trades, and books where
``books``) on top of what its settings name. Market data is shared by every user of the
installation, so starting and stopping one is for admins (``tl-roles`` has ``admin``); listing
is for everyone. A started subscription is persisted and runs within seconds, without a restart;
a stopped one stays listed (``desired`` ``stopped``) until it is started again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import WireDecimal

SYMBOL = Field(min_length=3, max_length=64, examples=["SOL/USDT"])
VENUE = Field(min_length=1, max_length=32, examples=["sim"], description="the synthetic venue or a ccxt one")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SubscriptionStart(_Model):
    venue: str = VENUE
    symbol: str = SYMBOL
    books: bool = Field(default=True, description="also collect the order book")


class SubscriptionRef(_Model):
    venue: str = VENUE
    symbol: str = SYMBOL


class SubscriptionsListRequest(_Model):
    venue: str | None = Field(default=None, min_length=1, max_length=32, description="all venues if omitted")


class SubscriptionGap(_Model):
    from_ns: int = Field(description="time of the last trade received before the gap")
    to_ns: int = Field(description="time of the first trade received after it")
    reason: Literal["id sequence", "time"] = Field(
        description="the venue's trade ids jumped, or the feed was silent too long after a reconnect"
    )
    missing_trades: int | None = Field(default=None, description="by the venue's ids (null: not numbered)")


class Subscription(_Model):
    venue: str
    symbol: str
    books: bool
    source: Literal["api", "settings"] = Field(description="settings ones cannot be stopped here")
    desired: Literal["running", "stopped"]
    status: Literal["pending", "running", "stopped", "failed"] = Field(
        description="what the ingesting replica reported last"
    )
    error: str | None = Field(default=None, description="why it failed")
    created_by: str | None = None
    created_at_ns: int | None = None
    status_at_ns: int | None = None
    last_trade_ts_ns: int | None = Field(default=None, description="newest stored trade")
    last_price: WireDecimal | None = None
    lag_s: float | None = Field(default=None, description="seconds since the newest stored trade")
    gap_count: int = Field(
        default=0, ge=0, description="gaps the live source detected (while running, or since the last stored trade)"
    )
    missing_trades: int = Field(default=0, ge=0, description="trades missing by the venue's ids, over all gaps")
    last_gap: SubscriptionGap | None = Field(default=None, description="the newest gap; null: none yet")


class SubscriptionsReply(_Model):
    subscriptions: list[Subscription]


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "subscriptions_start",
        SubscriptionStart,
        Subscription,
        "Admin: start ingesting a venue's symbol (persisted, no restart).",
    ),
    RequestContract(
        "market-data",
        "subscriptions_stop",
        SubscriptionRef,
        Subscription,
        "Admin: stop ingesting a symbol started through the API.",
    ),
    RequestContract(
        "market-data",
        "subscriptions_list",
        SubscriptionsListRequest,
        SubscriptionsReply,
        "Ingested symbols (settings and API) with status, last trade and lag.",
    ),
)
