"""Alerts under faults (issue 17, "no alert lost or doubled"): a user holding a position whose
``max_position_notional`` limit is driven through *approaching* and then *breached* while a fault
is under way, an ``alerts`` WebSocket that outlives gateway restarts, and the audit of both.

Delivery on the socket is exactly once, not at-least-once, because the client resumes: each event
carries its stream sequence, and after a lost connection the client subscribes again with
``after_seq`` = the last RISK sequence it saw on ``alerts`` (before any alert: the sequence of its
first ``positions`` event, which precedes the limit being set). The gateway's ordered consumer then
starts right after it, so nothing is replayed twice and nothing is skipped (routes/ws.py). On the
stream itself an alert is one message: risk-monitor writes it to the outbox only when its row is
new (id = account:limit:level:trading day) and the relay publishes with ``Nats-Msg-Id``. So the
audit counts alert ids on the socket as they arrived, without deduplicating.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.e2e.chaos_kit import User, log_in, sign_up
from tests.e2e.journey_kit import SYMBOL

LIMIT = "max_position_notional"
HOLDING = Decimal("0.01")  # bought first; the limit is then set around its notional
LEVELS = {"approaching": Decimal("0.0115"), "breached": Decimal("0.005")}  # limit = price x this
# 0.01 / 0.0115 = 87 % of the limit (approaching from 80 %, so a price move of up to ~8 % is fine);
# 0.01 / 0.005 = 200 % (breached)


class AlertWatch:
    """One user's ``alerts`` channel, reconnected (and resumed) whenever the socket is lost."""

    def __init__(self, ws_url: str, http: httpx.AsyncClient, user: User) -> None:
        self.ws_url, self.http, self.user = ws_url, http, user
        self.floor: int | None = None  # RISK seq of the user's first positions event
        self.last_seq: int | None = None  # the last RISK seq seen on ``alerts``
        self.alerts: list[dict[str, Any]] = []  # every alert payload, in arrival order
        self.connects = 0
        # set once the gateway confirmed ``positions``: that channel is live only, so an event
        # published before it (the holding's fill, if the buy came first) would never arrive
        self.following_positions = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # gateway down, NATS down, token refused: again
                await self._session()
            await asyncio.sleep(0.5)

    async def _session(self) -> None:
        await log_in(self.http, self.user)
        token = self.user.headers["Authorization"].removeprefix("Bearer ")
        async with connect(self.ws_url, ping_interval=None, max_size=None, open_timeout=10) as ws:
            await ws.send(json.dumps({"op": "auth", "token": token}))
            if json.loads(await ws.recv()).get("type") != "welcome":
                return
            self.connects += 1
            after = self.last_seq if self.last_seq is not None else self.floor
            resume = {} if after is None else {"after_seq": {"RISK": after}}
            await ws.send(json.dumps({"op": "subscribe", "channel": "alerts"} | resume))
            if self.floor is None:
                await ws.send(json.dumps({"op": "subscribe", "channel": "positions"}))
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "error":
                    return  # e.g. "unavailable" while NATS restarts: reconnect and resume
                if message.get("type") == "subscribed" and message.get("channel") == "positions":
                    self.following_positions.set()
                if message.get("type") == "event":
                    self._on_event(message)

    def _on_event(self, message: dict[str, Any]) -> None:
        if message["stream"] != "RISK":
            return
        if message["channel"] == "positions" and self.floor is None:
            self.floor = int(message["seq"])
        elif message["channel"] == "alerts":
            self.last_seq = int(message["seq"])
            if "alert" in message["event"]["data"]:
                self.alerts.append(message["event"]["data"]["alert"])


class _Unauthorized(Exception):
    pass


async def until(
    http: httpx.AsyncClient, user: User, step: Callable[[], Awaitable[bool]], deadline_s: float
) -> bool:
    """Repeat ``step`` through connection errors and refusals (re-logging in on 401) until it returns
    True or ``deadline_s`` passes; whether it succeeded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while loop.time() < deadline:
        try:
            if await step():
                return True
        except httpx.HTTPError:
            pass
        except _Unauthorized:
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                await log_in(http, user)
        await asyncio.sleep(0.5)
    return False


def _ok(answer: httpx.Response, *codes: int) -> bool:
    if answer.status_code == 401:
        raise _Unauthorized
    return answer.status_code in codes


@dataclass
class Alerter:
    """A user holding ``HOLDING`` BTC with its alerts socket, ready for ``drive``."""

    user: User
    watch: AlertWatch

    @classmethod
    async def start(cls, http: httpx.AsyncClient, ws_url: str, name: str, deadline_s: float) -> Alerter:
        user = await sign_up(http, name)
        watch = AlertWatch(ws_url, http, user)
        body = {"account_id": user.account_id, "symbol": SYMBOL, "side": "buy", "type": "market",
                "quantity": str(HOLDING), "client_order_id": f"{name}-holding"}  # fmt: skip

        last = ["no answer"]  # the buy's last answer, for the failure's message

        async def bought() -> bool:
            answer = await http.post("/v1/orders", json=body, headers=user.headers)
            last[0] = f"{answer.status_code} {answer.text[:200]}"
            return _ok(answer, 201, 200)

        async def seen() -> bool:  # the fill's position event: the floor the socket resumes from
            return watch.floor is not None

        async def following() -> bool:  # before the buy: its position event must not come first
            return watch.following_positions.is_set()

        if not await until(http, user, following, deadline_s):
            raise AssertionError(f"{name}: the socket never followed positions (connects {watch.connects})")
        if not await until(http, user, bought, deadline_s):
            raise AssertionError(f"{name}: the holding was not bought (last answer: {last[0]})")
        if not await until(http, user, seen, deadline_s):
            raise AssertionError(f"{name}: the holding was bought ({last[0]}) but its position never "
                                 f"reached the socket (connects {watch.connects})")  # fmt: skip
        return cls(user, watch)

    async def drive(self, http: httpx.AsyncClient, deadline_s: float) -> list[str]:
        """Set the limit for *approaching*, wait for that alert in the store, then for *breached*;
        each call retried through the fault. Returns the levels that could not be driven."""
        user, failed = self.user, []
        for level, factor in LEVELS.items():

            async def put(factor: Decimal = factor) -> bool:
                answer = await http.get("/v1/market/price", params={"symbol": SYMBOL}, headers=user.headers)
                if not _ok(answer, 200):
                    return False
                limit = (Decimal(answer.json()["price"]) * factor).quantize(Decimal(1))
                url = f"/v1/risk/accounts/{user.account_id}/limits"
                return _ok(await http.put(url, json={LIMIT: str(limit)}, headers=user.headers), 200)

            async def stored(level: str = level) -> bool:
                return level in {a["level"] for a in await self.stored(http)}

            if not (await until(http, user, put, deadline_s) and await until(http, user, stored, deadline_s)):
                failed.append(level)
        return failed

    async def stored(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        params = {"account_id": self.user.account_id}
        answer = await http.get("/v1/risk/alerts", params=params, headers=self.user.headers)
        if not _ok(answer, 200):
            raise httpx.HTTPError(f"alerts: {answer.status_code}")
        return [a for a in answer.json()["items"] if a["limit_name"] == LIMIT]


@dataclass
class AlertAudit:
    """Per (limit, level, episode): missing from or doubled in the store, and on the socket."""

    store_lost: int
    store_doubled: int
    ws_lost: int
    ws_doubled: int

    @property
    def clean(self) -> bool:
        return not (self.store_lost or self.store_doubled or self.ws_lost or self.ws_doubled)

    def note(self) -> str:
        return (f"alerts: store lost {self.store_lost} doubled {self.store_doubled}, "
                f"socket lost {self.ws_lost} doubled {self.ws_doubled}")  # fmt: skip


async def audit_alerts(http: httpx.AsyncClient, alerter: Alerter) -> AlertAudit:
    """Both levels stored once each (an id names its episode, the trading day), and each stored
    alert arrived exactly once on the socket."""
    stored = await alerter.stored(http)
    episodes = Counter((a["level"], a["alert_id"].rsplit(":", 1)[-1]) for a in stored)
    on_socket = Counter(a["alert_id"] for a in alerter.watch.alerts if a["limit_name"] == LIMIT)
    return AlertAudit(
        store_lost=len(LEVELS.keys() - {level for level, _ in episodes}),
        store_doubled=sum(n - 1 for n in episodes.values() if n > 1),
        ws_lost=sum(1 for a in stored if on_socket[a["alert_id"]] == 0),
        ws_doubled=sum(n - 1 for n in on_socket.values() if n > 1),
    )
