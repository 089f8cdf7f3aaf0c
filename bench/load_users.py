"""The load bench's simulated users (bench/bench_load.py): each signs up (register, log in, a
paper account), opens a WebSocket subscribed to prices, orders and positions, then loops over a
mix of REST calls with an exponential think time between them, until told to stop:

- ``market`` 35 %: the last price or the last 50 one-minute candles;
- ``portfolio`` 30 %: risk-monitor's positions, the account's balances or analytics' summary;
- ``orders_read`` 15 %: the account's last 20 orders;
- ``order_submit`` 20 %: a paper market order of 0.001 BTC, buy and sell in turn.

Each user sends its own ``X-Forwarded-For`` address (10.x.y.z) and the gateway is started trusting
the local proxy, so rate limits and lockouts apply per simulated user as they would per client.
Latencies are kept per route class; a 5xx or a transport error is an error; a 4xx is counted by
status apart (e.g. 422: a sell with nothing left to sell).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

PASSWORD = "violet-harbor-kettle-42"
SYMBOL = "BTC/USDT"
MIX = (("market", 0.35), ("portfolio", 0.30), ("orders_read", 0.15), ("order_submit", 0.20))
CHANNELS = (f"prices.{SYMBOL}", "orders", "positions")


@dataclass
class Figures:
    """Everything the users measured, shared by all of them."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # route class -> 5xx + transport errors
    refused: Counter[int] = field(default_factory=Counter)  # 4xx by status
    ws_events: int = 0
    ws_lost: Counter[int | None] = field(default_factory=Counter)  # sockets closed during the run, by code
    recording: bool = False  # only the measured window counts (not sign-up or warm-up)

    def add(self, kind: str, seconds: float) -> None:
        if self.recording:
            self.latencies.setdefault(kind, []).append(seconds)


class SimUser:
    def __init__(self, index: int, http: aiohttp.ClientSession, figures: Figures, think_s: float) -> None:
        self.index, self.http, self.figures, self.think_s = index, http, figures, think_s
        self.email = f"load{index}-{random.getrandbits(32):08x}@example.com"
        self.ip = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
        self.headers = {"X-Forwarded-For": self.ip}
        self.account_id = ""
        self.side = "sell"
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def _call(self, kind: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            async with self.http.request(method, path, headers=self.headers, **kwargs) as answer:
                body = await answer.json(content_type=None)
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, ValueError):
            self.figures.errors[kind] += 1 if self.figures.recording else 0
            return None
        self.figures.add(kind, time.perf_counter() - started)
        if status == 401 and kind != "login":  # the access token expired in a long soak
            await self._log_in()
            return None
        if status >= 500:
            self.figures.errors[kind] += 1 if self.figures.recording else 0
        elif status >= 400:
            self.figures.refused[status] += 1 if self.figures.recording else 0
        return body if status < 300 else None

    async def _log_in(self) -> str | None:
        creds = {"email": self.email, "password": PASSWORD}
        login = await self._call("login", "POST", "/v1/auth/login", json=creds)
        if login is None:
            return None
        self.headers["Authorization"] = f"Bearer {login['access_token']}"
        return str(login["access_token"])

    async def sign_up(self) -> bool:
        """Register, log in, open a paper account and the socket; whether all of it worked."""
        creds = {"email": self.email, "password": PASSWORD}
        if await self._call("login", "POST", "/v1/auth/register", json=creds) is None:
            return False
        if await self._log_in() is None:
            return False
        made = await self._call("login", "POST", "/v1/accounts", json={"name": "load"})
        if made is None:
            return False
        self.account_id = made["account_id"]
        return await self.connect()

    async def connect(self) -> bool:
        """The socket on ``CHANNELS`` (again after the server closed it, e.g. at token expiry)."""
        token = self.headers["Authorization"].removeprefix("Bearer ")
        started = time.perf_counter()
        try:
            self.ws = await self.http.ws_connect(
                "/v1/ws", headers={"X-Forwarded-For": self.ip}, max_msg_size=0
            )
            await self.ws.send_json({"op": "auth", "token": token})
            if (await self.ws.receive_json(timeout=30))["type"] != "welcome":
                return False
            for channel in CHANNELS:
                await self.ws.send_json({"op": "subscribe", "channel": channel})
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError):
            return False
        self.figures.add("ws_connect", time.perf_counter() - started)
        self.reader = asyncio.create_task(self._read(self.ws))
        return True

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT and '"type":"event"' in message.data:
                self.figures.ws_events += 1
                self._fan_out_delay(message.data)
        if self.figures.recording:
            self.figures.ws_lost[ws.close_code] += 1

    def _fan_out_delay(self, text: str) -> None:
        """``ws_fanout``: from the event's creation (its envelope ``time``, same host clock) to this
        socket receiving it: outbox relay or publisher, NATS, the gateway's fan-out and this client."""
        with contextlib.suppress(ValueError, KeyError, TypeError):
            created = datetime.fromisoformat(json.loads(text)["event"]["time"].replace("Z", "+00:00"))
            self.figures.add("ws_fanout", time.time() - created.timestamp())

    async def step(self) -> None:
        kind = random.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        account = {"account_id": self.account_id}
        if kind == "market":
            if random.random() < 0.5:
                await self._call(kind, "GET", "/v1/market/price", params={"symbol": SYMBOL})
            else:
                query = {"symbol": SYMBOL, "timeframe": "1m", "limit": "50"}
                await self._call(kind, "GET", "/v1/market/candles", params=query)
        elif kind == "portfolio":
            path, params = random.choice(
                [("/v1/risk/positions", account), (f"/v1/accounts/{self.account_id}/balances", {}),
                 ("/v1/analytics/summary", {})]
            )  # fmt: skip
            await self._call(kind, "GET", path, params=params)
        elif kind == "orders_read":
            await self._call(kind, "GET", "/v1/orders", params=account | {"limit": "20"})
        else:
            self.side = "buy" if self.side == "sell" else "sell"
            body = account | {"symbol": SYMBOL, "side": self.side, "type": "market", "quantity": "0.001"}
            await self._call(kind, "POST", "/v1/orders", json=body)

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.sleep(random.uniform(0, self.think_s))  # spread the users' first calls
        while not stop.is_set():
            if self.reader is not None and self.reader.done() and await self._log_in():
                await self.connect()
            await self.step()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), random.expovariate(1 / self.think_s))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()
