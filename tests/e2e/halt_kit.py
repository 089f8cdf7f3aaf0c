"""An emergency stop through `make run`'s stack, for the restart test: the demo user halts their
account (the resting order cancelled, new orders refused), and the halt must still hold after every
service, NATS and Postgres were stopped and started again, until the user resumes."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal

import httpx

SYMBOL = "BTC/USDT"
WAIT_S = 60.0


def login(gateway: str, email: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{gateway}/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def demo_account(gateway: str, headers: dict[str, str]) -> str:
    """The demo paper account `make run` opens just after it prints the demo login."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        items = httpx.get(f"{gateway}/v1/accounts", headers=headers, timeout=10).json().get("items", [])
        if items:
            return str(items[0]["account_id"])
        time.sleep(0.5)
    raise AssertionError("make run opened no demo paper account")


def market_order(gateway: str, headers: dict[str, str], account_id: str) -> httpx.Response:
    body = {"account_id": account_id, "symbol": SYMBOL, "side": "buy", "type": "market", "quantity": "0.001"}
    return httpx.post(f"{gateway}/v1/orders", headers=headers, json=body, timeout=10)


def halt_with_a_resting_order(gateway: str, headers: dict[str, str], account_id: str) -> None:
    """A limit buy at half the price rests; the account's emergency stop cancels it and refuses more."""
    deadline = time.monotonic() + WAIT_S
    price = None
    while price is None and time.monotonic() < deadline:  # the synthetic market's first trades
        answer = httpx.get(
            f"{gateway}/v1/market/price", headers=headers, params={"symbol": SYMBOL}, timeout=10
        )
        price = Decimal(answer.json()["price"]) if answer.status_code == 200 else None
        time.sleep(0 if price else 0.5)
    assert price is not None, "no market price"
    low = str((price / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN))
    body = {"account_id": account_id, "symbol": SYMBOL, "side": "buy", "type": "limit", "quantity": "0.001",
            "price": low}  # fmt: skip
    resting = httpx.post(f"{gateway}/v1/orders", headers=headers, json=body, timeout=10)
    assert resting.status_code == 201 and resting.json()["status"] == "new", resting.text
    stop = {"scope": "user", "account_id": account_id, "reason": "restart test"}
    halted = httpx.post(f"{gateway}/v1/risk/emergency-stop", headers=headers, json=stop, timeout=10)
    assert halted.status_code == 200 and halted.json()["halted"] is True, halted.text
    order_id = resting.json()["order_id"]
    until(lambda: order_status(gateway, headers, order_id) == "canceled", "the resting order cancelled")
    until(lambda: market_order(gateway, headers, account_id).status_code == 409, "new orders refused")


def still_halted_then_resumed(gateway: str, headers: dict[str, str], account_id: str) -> None:
    refused = market_order(gateway, headers, account_id)
    assert refused.status_code == 409 and "trading_halted" in refused.text, refused.text
    stop = {"scope": "user", "account_id": account_id, "reason": "restart test"}
    resumed = httpx.post(f"{gateway}/v1/risk/resume", headers=headers, json=stop, timeout=10)
    assert resumed.status_code == 200 and resumed.json()["halted"] is False, resumed.text
    until(lambda: market_order(gateway, headers, account_id).status_code == 201, "orders accepted again")


def order_status(gateway: str, headers: dict[str, str], order_id: str) -> str:
    detail = httpx.get(f"{gateway}/v1/orders/{order_id}", headers=headers, timeout=10).json()
    return str(detail.get("order", {}).get("status"))


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {WAIT_S:.0f} s")
