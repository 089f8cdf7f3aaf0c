"""The UI's streams through the real processes: a WebSocket fed by market-data's synthetic trades, and
a backtest's progress as Server-Sent Events, each crossing gateway → NATS → the owning service."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "violet-harbor-kettle-42"
HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def bars_csv(n: int) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(n):
        close = 100 + 10 * math.sin(i / 9)
        open_ = close - 0.5 * math.cos(i / 5)
        high, low = max(open_, close) + 0.25, min(open_, close) - 0.25
        lines.append(f"{START_MS + i * HOUR_MS},{open_:.4f},{high:.4f},{low:.4f},{close:.4f},{1 + i % 5}")
    return "\n".join(lines) + "\n"


def session(http: httpx.Client, email: str) -> dict[str, str]:
    assert http.post("/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    tokens = http.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def first_price_event(ws_url: str, token: str) -> dict[str, object]:
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send(json.dumps({"op": "subscribe", "channel": "prices.BTC/USDT"}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if message["type"] == "error":
                raise AssertionError(message)
            if message["type"] == "event":
                return dict(message)


def test_websocket_prices_from_the_synthetic_market(stack: Stack) -> None:
    stack.wait_all_up()
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        token = session(http, "ws@example.com")["Authorization"].removeprefix("Bearer ")
    ws_url = stack.gateway_url.replace("http://", "ws://") + "/v1/ws"
    event = asyncio.run(first_price_event(ws_url, token))
    assert event["channel"] == "prices.BTC/USDT" and event["stream"] == "MD_TRADES"
    data = event["event"]["data"]  # type: ignore[index]
    assert data["symbol"] == "BTC/USDT" and data["trades"] and int(str(event["seq"])) > 0


def test_backtest_progress_as_server_sent_events(stack: Stack) -> None:
    stack.wait_all_up()
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        headers = session(http, "sse@example.com")
        made = http.post("/v1/datasets", headers=headers, params={"name": "sine"}, content=bars_csv(400))
        assert made.status_code == 201, made.text
        body = {
            "strategy": "sma_cross",
            "params": {"fast": 5, "slow": 20},
            "dataset_id": made.json()["dataset_id"],
        }
        accepted = http.post("/v1/backtests", headers=headers, json=body)
        assert accepted.status_code == 202, accepted.text
        backtest_id = accepted.json()["backtest_id"]
        events: list[tuple[str, dict[str, object]]] = []
        with http.stream("GET", f"/v1/backtests/{backtest_id}/events", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((name, json.loads(line.removeprefix("data: "))))
                    if name in {"completed", "failed", "cancelled"}:
                        break
        names = [name for name, _ in events]
        assert names[-1] == "completed", events[-1]
        assert "progress" in names
        other = session(http, "nosy@example.com")
        assert http.get(f"/v1/backtests/{backtest_id}/events", headers=other).status_code == 404
        result = http.get(f"/v1/backtests/{backtest_id}", headers=headers).json()
        assert result["status"] == "completed"
