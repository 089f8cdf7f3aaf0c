"""The order bench's two halves besides the services: the neighbours process and the load generator.

``neighbours``: one process standing in for market-data (and for risk-monitor only when the bench
runs with ``BENCH_RISK=stub``): it answers ``svc.market-data.instruments`` (BTC/USDT on ``sim``),
with the stub answers every ``svc.risk-monitor.check`` with *approved* (a MINIMAL RESPONDER, no
risk rules; by default the real risk-monitor process answers), and publishes a
synthetic BTC/USDT trade stream at a fixed rate (one trade per message, price 30000, size 1000).

``run_rate``: an open-loop generator: order *i* is sent at ``start + i / rate`` (never waiting for
earlier answers) as ``POST /v1/orders`` (market buy) on keep-alive connections; its latency ends
when the order's ``filled`` update arrives on the user's WebSocket (channel ``orders``). The
``pending_new``/``new``/``filled`` updates and the fill (channel ``fills``: the filling trade's
time) carry the timestamps of the per-hop breakdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from tradeloom.shared.aio import run_main

PRICE = "30000"
DRAIN_S = 5.0  # after the last send: how long every filled update may still take to arrive


def neighbours(nats_url: str, prefix: str, trades_per_s: float, answer_risk: bool) -> None:
    """The stand-in process (see the module docstring), until killed."""
    import nats

    from tests.e2e.order_stack import Neighbours
    from tradeloom.shared.nats_auth import admin_options
    from tradeloom.shared.subjects import Subjects

    async def main() -> None:
        nc = await nats.connect(nats_url, **admin_options())
        stand_ins = Neighbours(nc, Subjects(prefix), answer_risk=answer_risk)
        await stand_ins.start()
        started, sent = time.monotonic(), 0
        while True:
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / trades_per_s - time.monotonic()))
            await stand_ins.trade(PRICE, "1000")

    run_main(main())


@dataclass
class Sample:
    sent: float  # wall clock (s) when POST started
    answered: float | None = None
    events: dict[str, float] = field(default_factory=dict)  # status → envelope time
    created: float | None = None
    trade: float | None = None  # the filling market trade's time (the fill's ``filled_at``)
    filled_seen: float | None = None  # wall clock when ``filled`` reached the socket

    def hops(self) -> dict[str, float] | None:
        """Seconds per hop: gateway + intake, risk check, trade wait, paper match, event fan-out."""
        e = self.events
        if None in (self.filled_seen, self.created, self.trade) or not {"new", "filled"} <= e.keys():
            return None
        assert self.filled_seen is not None and self.created is not None and self.trade is not None
        return {
            "gateway + router intake": self.created - self.sent,
            "risk check": e["new"] - self.created,
            "wait for the next trade": self.trade - e["new"],
            "paper match (trade → filled)": e["filled"] - self.trade,
            "event fan-out (outbox → WS)": self.filled_seen - e["filled"],
        }


@dataclass
class RateResult:
    rate: float
    seconds: float
    samples: dict[str, Sample]
    errors: int
    statuses: dict[int, int]
    send_s: float = 0.0  # how long sending took (longer than ``seconds``: the generator fell behind)
    ended: float = float("inf")  # wall clock at the end of the drain: later fills count as missing

    @property
    def latencies(self) -> list[float]:
        return [(s.filled_seen or 0.0) - s.sent for s in self.samples.values() if self.in_time(s)]

    @property
    def missing(self) -> int:
        return sum(1 for s in self.samples.values() if not self.in_time(s))

    def in_time(self, sample: Sample) -> bool:
        return sample.filled_seen is not None and sample.filled_seen <= self.ended

    @property
    def achieved(self) -> float:
        return len(self.samples) / max(self.send_s, self.seconds)

    @property
    def clean(self) -> bool:
        """No error, every order filled on the socket, and the rate really offered (>= 95 %)."""
        return self.errors == 0 and self.missing == 0 and self.achieved >= 0.95 * self.rate


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class OrderLoad:
    """One user, one paper account, one socket on ``orders``; runs rates one after another."""

    def __init__(self, base: str, token: str, account_id: str) -> None:
        self.base, self.account_id = base, account_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ws_url = base.replace("http://", "ws://") + "/v1/ws"
        self.samples: dict[str, Sample] = {}  # by client_order_id
        self.by_order: dict[str, Sample] = {}  # by order_id
        self.last_event = time.monotonic()
        self.filled = asyncio.Event()  # set on each ``filled`` update and when the socket stops

    def _on_event(self, envelope: dict[str, Any]) -> None:
        if "fill" in envelope["data"]:
            fill = envelope["data"]["fill"]
            filled = self.by_order.get(fill["order_id"])
            if filled is not None:
                filled.trade = _ts(fill["filled_at"])
            return
        order = envelope["data"]["order"]
        sample = self.samples.get(order["client_order_id"])
        if sample is None:
            return
        status = order["status"]
        sample.events[status] = _ts(envelope["time"])
        if status == "pending_new":
            sample.created = _ts(order["created_at"])
            self.by_order[order["order_id"]] = sample
        if status == "filled":
            sample.filled_seen = time.time()
            self.filled.set()

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in ws:
                body = json.loads(message.data)
                if body.get("type") == "event":
                    self.last_event = time.monotonic()
                    self._on_event(body["event"])
                elif body.get("type") == "error":
                    raise RuntimeError(f"socket error: {body}")
            raise RuntimeError(f"the socket closed: {ws.close_code}")
        finally:
            self.filled.set()

    async def _send(self, http: aiohttp.ClientSession, result: RateResult) -> None:
        client_id = uuid.uuid4().hex
        sample = Sample(sent=time.time())
        self.samples[client_id] = result.samples[client_id] = sample
        body = {"account_id": self.account_id, "client_order_id": client_id, "symbol": "BTC/USDT",
                "side": "buy", "type": "market", "quantity": "0.001"}  # fmt: skip
        try:
            async with http.post("/v1/orders", json=body, headers=self.headers) as answer:
                await answer.read()
                result.statuses[answer.status] = result.statuses.get(answer.status, 0) + 1
                result.errors += answer.status >= 300
                sample.answered = time.time()
        except aiohttp.ClientError:
            result.errors += 1

    async def __aenter__(self) -> OrderLoad:
        self.http = aiohttp.ClientSession(base_url=self.base, connector=aiohttp.TCPConnector(limit=256))
        self.ws = await self.http.ws_connect(self.ws_url, max_msg_size=0)
        await self.ws.send_json({"op": "auth", "token": self.headers["Authorization"][7:]})
        assert (await self.ws.receive_json())["type"] == "welcome"
        for channel in ("orders", "fills"):
            await self.ws.send_json({"op": "subscribe", "channel": channel})
            assert (await self.ws.receive_json())["type"] == "subscribed"
        self.listener = asyncio.create_task(self._listen(self.ws))
        return self

    async def __aexit__(self, *_: object) -> None:
        self.listener.cancel()
        await self.ws.close()
        await self.http.close()

    async def quiet(self, idle_s: float, limit_s: float) -> float:
        """Wait until no event came for ``idle_s`` (an overloaded step's backlog has drained), at
        most ``limit_s``; returns how long it took."""
        started = time.monotonic()
        while time.monotonic() - started < limit_s:
            if time.monotonic() - self.last_event >= idle_s:
                break
            await asyncio.sleep(0.2)
        return time.monotonic() - started

    async def rate(self, rate: float, seconds: float) -> RateResult:
        """Offer ``rate`` orders/s for ``seconds``; then wait (<= DRAIN_S) for the last fills."""
        http, listener = self.http, self.listener
        result = RateResult(rate, seconds, {}, 0, {})
        started, tasks = time.monotonic(), []
        for i in range(round(rate * seconds)):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(self._send(http, result)))
        result.send_s = time.monotonic() - started
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + DRAIN_S
        while not listener.done() and time.monotonic() < deadline:
            self.filled.clear()
            if not result.missing:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.filled.wait(), deadline - time.monotonic())
        if listener.done():
            listener.result()  # raises what stopped the socket
        result.ended = time.time()
        return result


if __name__ == "__main__":
    neighbours(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "stub")
