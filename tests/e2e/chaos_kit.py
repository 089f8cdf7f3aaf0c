"""The chaos clients and books, shared by the chaos bench (bench/bench_chaos.py) and the journey
file's order-router kill: users streaming orders through the gateway (retrying a submission with
the same ``client_order_id`` until it is answered), and the independent fold of each account's
fills that its balances and risk-monitor's positions must equal.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e.journey_kit import PASSWORD, SYMBOL

INITIAL_USDT = Decimal(10_000)
QUANTITY = "0.001"
RETRY_FOR_S = 90.0  # a submission is retried (same client id) this long before it counts as unanswered


@dataclass
class User:
    """One user with a paper account; ``accepted`` holds every client id the API answered 201."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    account_id: str = ""
    accepted: set[str] = field(default_factory=set)
    refused: int = 0
    unanswered: set[str] = field(default_factory=set)
    in_flight: int = 0
    serial: itertools.count[int] = field(default_factory=itertools.count)


async def log_in(http: httpx.AsyncClient, user: User) -> None:
    """A fresh access token (they expire within a long run)."""
    body = {"email": f"{user.name}@example.com", "password": PASSWORD}
    answer = await http.post("/v1/auth/login", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    user.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def sign_up(http: httpx.AsyncClient, name: str) -> User:
    user = User(name)
    body = {"email": f"{name}@example.com", "password": PASSWORD}
    assert (await http.post("/v1/auth/register", json=body)).status_code == 201
    await log_in(http, user)
    made = await http.post("/v1/accounts", json={"name": name}, headers=user.headers)
    assert made.status_code == 201, made.text
    user.account_id = made.json()["account_id"]
    return user


async def submit(http: httpx.AsyncClient, user: User, side: str) -> int | None:
    """One market order, retried with its client id through errors; the final status code, or
    None when no answer came within RETRY_FOR_S."""
    client_id = f"chaos-{user.name}-{next(user.serial)}"
    body = {"account_id": user.account_id, "symbol": SYMBOL, "side": side, "type": "market",
            "quantity": QUANTITY, "client_order_id": client_id}  # fmt: skip
    user.in_flight += 1
    try:
        deadline = asyncio.get_running_loop().time() + RETRY_FOR_S
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await http.post("/v1/orders", json=body, headers=user.headers, timeout=15)
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if answer.status_code in (201, 200):
                user.accepted.add(client_id)
                return answer.status_code
            if answer.status_code in (409, 422):
                user.refused += 1
                return answer.status_code
            if answer.status_code == 401:
                await log_in(http, user)
                continue
            await asyncio.sleep(0.5)  # 5xx / 429 / 503: the same order again
        user.unanswered.add(client_id)
        return None
    finally:
        user.in_flight -= 1


async def stream(http: httpx.AsyncClient, user: User, running: asyncio.Event, stop: asyncio.Event) -> None:
    """Buy, then sell, and again, while ``running`` is set, until ``stop``."""
    for side in itertools.cycle(("buy", "sell")):
        if stop.is_set():
            return
        if not running.is_set():
            await asyncio.sleep(0.2)
            continue
        await submit(http, user, side)
        await asyncio.sleep(0.1)


async def all_pages(http: httpx.AsyncClient, path: str, user: User, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"account_id": user.account_id, "limit": "200", **params} | (
            {"cursor": cursor} if cursor else {}
        )
        page = await http.get(path, params=query, headers=user.headers, timeout=30)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


def fold(fills: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Balances from the initial 10,000 USDT and the fills alone (buys pay price × quantity + fee)."""
    books = {"USDT": INITIAL_USDT, "BTC": Decimal(0)}
    for fill in fills:
        notional = Decimal(fill["price"]) * Decimal(fill["quantity"])
        sign = 1 if fill["side"] == "buy" else -1
        books["BTC"] += sign * Decimal(fill["quantity"])
        books["USDT"] += -sign * notional - Decimal(fill["fee"])
    return books


@dataclass
class Audit:
    """What one account's books say against its clients' view and the fold of its fills."""

    orders: int = 0
    lost: int = 0
    duplicates: int = 0
    fill_duplicates: int = 0
    fill_mismatches: int = 0
    balance_off: bool = False
    position_off: bool = False
    open_orders: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicates or self.fill_duplicates or self.fill_mismatches
                    or self.balance_off or self.position_off)  # fmt: skip


async def audit(http: httpx.AsyncClient, user: User) -> Audit:
    result = Audit()
    orders = await all_pages(http, "/v1/orders", user)
    fills = await all_pages(http, "/v1/fills", user)
    result.orders = len(orders)
    by_client = Counter(o["client_order_id"] for o in orders)
    result.lost = len(user.accepted - set(by_client))
    result.duplicates = sum(n - 1 for n in by_client.values() if n > 1)
    result.fill_duplicates = sum(n - 1 for n in Counter(f["venue_fill_id"] for f in fills).values() if n > 1)
    filled: dict[str, Decimal] = {}
    for fill in fills:
        filled[fill["order_id"]] = filled.get(fill["order_id"], Decimal(0)) + Decimal(fill["quantity"])
    result.fill_mismatches = sum(
        1 for o in orders if Decimal(o["filled_quantity"]) != filled.get(o["order_id"], Decimal(0))
    )
    result.open_orders = sum(1 for o in orders if o["status"] in ("pending_new", "new", "partially_filled"))
    expected = fold(fills)
    answer = await http.get(f"/v1/accounts/{user.account_id}/balances", headers=user.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    held = {b["asset"]: Decimal(b["total"]) for b in answer.json()["balances"]}
    if any(held.get(asset, Decimal(0)) != amount for asset, amount in expected.items()):
        result.balance_off = True
        result.notes.append(f"{user.name} balances {held} != fold {expected}")
    positions = await http.get("/v1/risk/positions", params={"account_id": user.account_id},
                               headers=user.headers, timeout=30)  # fmt: skip
    risk = sum(
        (Decimal(p["quantity"]) for p in positions.json()["items"] if p["symbol"] == SYMBOL), Decimal(0)
    )
    if risk != expected["BTC"]:
        result.position_off = True
        result.notes.append(f"{user.name} risk position {risk} != fold {expected['BTC']}")
    return result
