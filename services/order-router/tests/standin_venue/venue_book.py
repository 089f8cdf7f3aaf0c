"""State of the stand-in venue: one spot account, its orders and trades, persisted to a JSON file.

Every change is written (atomically) before the venue answers, so killing the process and starting
it again on the same file loses nothing, like a real venue's restart.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# symbol -> (base, quote, tick size, step size, min notional)
MARKETS: dict[str, tuple[str, str, str, str, str]] = {
    "BTCUSDT": ("BTC", "USDT", "0.01", "0.00001", "5"),
    "ETHUSDT": ("ETH", "USDT", "0.01", "0.0001", "5"),
}
ORDER_TYPES = (
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
LIMIT_TYPES = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
COMMISSION = Decimal("0.001")  # taker and maker, paid in the asset received
OPEN = ("NEW", "PARTIALLY_FILLED")


def fmt(value: Decimal) -> str:
    """Binance's wire form: fixed eight decimals."""
    return f"{value.quantize(Decimal('0.00000001'), rounding=ROUND_DOWN):f}"


def now_ms() -> int:
    return int(time.time() * 1000)


def mandatory(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise VenueReject(
            400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def number(params: dict[str, str], name: str) -> Decimal:
    text = mandatory(params, name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or "e" in text.lower():
        raise VenueReject(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return value


class VenueReject(Exception):
    """An error answer ``{"code": …, "msg": …}`` with its HTTP status."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class Book:
    path: Path
    data: dict[str, Any]

    @classmethod
    def open(cls, path: Path, api_key: str, secret: str, balances: dict[str, str]) -> Book:
        if path.exists():
            return cls(path, json.loads(path.read_text()))
        data = {
            "api_key": api_key,
            "secret": secret,
            "permissions": {"read": True, "trade": True, "withdraw": False},
            "balances": {asset: {"free": amount, "locked": "0"} for asset, amount in balances.items()},
            "prices": {"BTCUSDT": "50000", "ETHUSDT": "3000"},
            "orders": {},
            "trades": [],
            "next_order_id": 1000,
            "next_trade_id": 5000,
            "controls": {},
        }
        book = cls(path, data)
        book.save()
        return book

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)

    # balances -----------------------------------------------------------------------------
    def _balance(self, asset: str) -> dict[str, str]:
        return self.data["balances"].setdefault(asset, {"free": "0", "locked": "0"})

    def _move(self, asset: str, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        entry = self._balance(asset)
        entry["free"] = str(Decimal(entry["free"]) + free)
        entry["locked"] = str(Decimal(entry["locked"]) + locked)

    # orders -------------------------------------------------------------------------------
    def find(self, symbol: str, order_id: str | None, client_id: str | None) -> dict[str, Any]:
        for order in self.data["orders"].values():
            if order["symbol"] != symbol:
                continue
            if (order_id is not None and str(order["orderId"]) == order_id) or (
                order_id is None and client_id is not None and order["clientOrderId"] == client_id
            ):
                return order
        raise VenueReject(400, -2013, "Order does not exist.")

    def create(self, p: dict[str, str]) -> dict[str, Any]:
        symbol = p.get("symbol", "")
        if symbol not in MARKETS:
            raise VenueReject(400, -1121, "Invalid symbol.")
        base, quote, tick, step, min_notional = MARKETS[symbol]
        side, kind = mandatory(p, "side"), mandatory(p, "type")
        if side not in ("BUY", "SELL") or kind not in ORDER_TYPES:
            raise VenueReject(400, -1116 if side in ("BUY", "SELL") else -1117, f"Invalid {kind or side}.")
        limit = kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        if limit and mandatory(p, "timeInForce") not in ("GTC", "IOC", "FOK"):
            raise VenueReject(400, -1115, "Invalid timeInForce.")
        trailing = self.trailing_delta(p, kind)
        stop = number(p, "stopPrice") if kind.startswith(("STOP", "TAKE")) and not trailing else Decimal(0)
        qty = number(p, "quantity")
        if qty <= 0 or qty % Decimal(step) != 0:
            raise VenueReject(400, -1013, "Filter failure: LOT_SIZE")
        market_price = stop if stop else Decimal(self.data["prices"][symbol])  # the lock of a market order
        price = number(p, "price") if kind in ("LIMIT", "LIMIT_MAKER") or limit else market_price
        if price <= 0 or price % Decimal(tick) != 0:
            raise VenueReject(400, -1013, "Filter failure: PRICE_FILTER")
        if qty * price < Decimal(min_notional):
            raise VenueReject(400, -1013, "Filter failure: NOTIONAL")
        client_id = p.get("newClientOrderId") or f"standin-{self.data['next_order_id']}"
        if any(o["clientOrderId"] == client_id and o["status"] in OPEN for o in self.data["orders"].values()):
            raise VenueReject(400, -2010, "Duplicate order sent.")
        lock_asset, lock_amount = (quote, qty * price) if side == "BUY" else (base, qty)
        if Decimal(self._balance(lock_asset)["free"]) < lock_amount:
            raise VenueReject(400, -2010, "Account has insufficient balance for requested action.")
        self._move(lock_asset, free=-lock_amount, locked=lock_amount)
        order_id = self.data["next_order_id"]
        self.data["next_order_id"] += 1
        stamp = now_ms()
        order = {
            "symbol": symbol, "orderId": order_id, "orderListId": -1, "clientOrderId": client_id,
            "price": str(price if kind in LIMIT_TYPES else Decimal(0)), "origQty": str(qty),
            "stopPrice": str(stop),
            "executedQty": "0", "cummulativeQuoteQty": "0", "status": "NEW",
            "timeInForce": p.get("timeInForce", "GTC") if limit else "GTC",
            "type": kind, "side": side, "time": stamp, "updateTime": stamp, "workingTime": stamp,
            "lockAsset": lock_asset, "locked": str(lock_amount), "lockPrice": str(price),
            **({"trailingDelta": trailing} if trailing else {}),
        }  # fmt: skip
        self.data["orders"][str(order_id)] = order
        if kind == "MARKET":
            self.fill(order, qty, price)
        elif kind == "LIMIT" and order["timeInForce"] in (
            "IOC",
            "FOK",
        ):  # no resting liquidity here: nothing executes
            self.cancel(order)
            order["status"] = "EXPIRED"
        return order

    @staticmethod
    def trailing_delta(p: dict[str, str], kind: str) -> int:
        """Binance spot's trailing stop: ``trailingDelta`` in bips (10..2000, an integer) on a
        STOP_LOSS or TAKE_PROFIT order, alone (trails from the price at placement); 0: none."""
        if "trailingDelta" not in p:
            return 0
        text = p["trailingDelta"]
        if (
            kind not in ("STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
            or not text.isdigit()
        ):
            raise VenueReject(400, -1013, "Filter failure: TRAILING_DELTA")
        if not 10 <= int(text) <= 2000:
            raise VenueReject(400, -1013, "Filter failure: TRAILING_DELTA")
        return int(text)

    def cancel(self, order: dict[str, Any]) -> dict[str, Any]:
        if order["status"] not in OPEN:
            raise VenueReject(400, -2011, "Unknown order sent.")
        self._move(order["lockAsset"], free=Decimal(order["locked"]), locked=-Decimal(order["locked"]))
        order["locked"], order["status"], order["updateTime"] = "0", "CANCELED", now_ms()
        return order

    def fill(self, order: dict[str, Any], qty: Decimal, price: Decimal) -> dict[str, Any]:
        """Execute ``qty`` of an open order at ``price``: trade record, balances, order status."""
        if order["status"] not in OPEN:
            raise VenueReject(400, -2011, "Unknown order sent.")
        remaining = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        qty = min(qty, remaining)
        base, quote = MARKETS[order["symbol"]][:2]
        quote_qty = qty * price
        buy = order["side"] == "BUY"
        # release the lock for this part (at the order's limit price for buys), pay, receive less fee
        release = min(qty * Decimal(order["lockPrice"]), Decimal(order["locked"])) if buy else qty
        self._move(order["lockAsset"], locked=-release)
        order["locked"] = str(Decimal(order["locked"]) - release)
        if buy:
            self._move(quote, free=release - quote_qty)
        received_asset, received = (base, qty) if buy else (quote, quote_qty)
        commission = received * COMMISSION
        # one trade per millisecond at most, so time-based paging is exact against this venue
        stamp = max([now_ms()] + [t["time"] + 1 for t in self.data["trades"][-1:]])
        self._move(received_asset, free=received - commission)
        trade = {
            "symbol": order["symbol"], "id": self.data["next_trade_id"], "orderId": order["orderId"],
            "orderListId": -1, "price": fmt(price), "qty": fmt(qty), "quoteQty": fmt(quote_qty),
            "commission": fmt(commission), "commissionAsset": received_asset, "time": stamp,
            "isBuyer": buy, "isMaker": order["type"] in LIMIT_TYPES, "isBestMatch": True,
        }  # fmt: skip
        self.data["next_trade_id"] += 1
        self.data["trades"].append(trade)
        order["executedQty"] = str(Decimal(order["executedQty"]) + qty)
        order["cummulativeQuoteQty"] = str(Decimal(order["cummulativeQuoteQty"]) + quote_qty)
        done = Decimal(order["executedQty"]) == Decimal(order["origQty"])
        order["status"], order["updateTime"] = ("FILLED" if done else "PARTIALLY_FILLED"), now_ms()
        if done and Decimal(order["locked"]) > 0:  # buy filled below its limit: unlock the rest
            self._move(order["lockAsset"], free=Decimal(order["locked"]), locked=-Decimal(order["locked"]))
            order["locked"] = "0"
        return trade


def order_view(order: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v3/order shape (Binance spot)."""
    return {
        "symbol": order["symbol"], "orderId": order["orderId"], "orderListId": -1,
        "clientOrderId": order["clientOrderId"], "price": fmt(Decimal(order["price"])),
        "origQty": fmt(Decimal(order["origQty"])), "executedQty": fmt(Decimal(order["executedQty"])),
        "cummulativeQuoteQty": fmt(Decimal(order["cummulativeQuoteQty"])), "status": order["status"],
        "timeInForce": order["timeInForce"], "type": order["type"], "side": order["side"],
        "stopPrice": fmt(Decimal(order.get("stopPrice", "0"))), "icebergQty": fmt(Decimal(0)),
        "time": order["time"],
        "updateTime": order["updateTime"], "isWorking": True, "workingTime": order["workingTime"],
        "origQuoteOrderQty": fmt(Decimal(0)), "selfTradePreventionMode": "EXPIRE_MAKER",
    }  # fmt: skip
