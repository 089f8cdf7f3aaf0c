"""Vocabulary shared by the order, account and risk contracts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SERVICE = "order-router"

SIDE = Literal["buy", "sell"]
# hedge position mode: which of the two positions on a perpetual an order or fill belongs to
POSITION_SIDE = Literal["long", "short"]
ORDER_TYPE = Literal[
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop",
]
TIME_IN_FORCE = Literal["gtc", "ioc", "fok", "gtd"]
ORDER_STATUS = Literal[
    "pending_new", "new", "partially_filled", "pending_cancel", "filled", "canceled", "rejected", "expired"
]
LIQUIDITY = Literal["maker", "taker"]

ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000001"])
CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
ASSET = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$", examples=["USDT"])
SYMBOL = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
CURSOR = Field(default=None, max_length=64, description="next_cursor of the previous page")
LIMIT = Field(default=50, ge=1, le=200)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
