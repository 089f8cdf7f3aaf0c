"""/v1/ws against a served gateway and real NATS: market and private channels, resume after a
reconnect, a refused foreign channel, the slow-consumer cut-off, heartbeats and token expiry."""

from __future__ import annotations

import asyncio
import json

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from stream_testkit import (
    new_user,
    open_socket,
    publish_backtest,
    publish_raw,
    publish_trades,
    receive,
    served_gateway,
    subscribe,
    ws_url,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tradeloom.shared.db import create_engine

Servers = tuple[str, str, str, str]


@pytest.fixture
def servers(database_url: str, nats_url: str, db_schema: str, nats_prefix: str) -> Servers:
    return database_url, nats_url, db_schema, nats_prefix


async def test_prices_resume_after_reconnect_then_live(servers: Servers, nc: NatsClient) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc, ws_heartbeat_s=0.3) as base:
        _, token = await new_user(base, "trader@example.com")
        ws = await open_socket(base, token)
        assert (await subscribe(ws, "prices.BTC/USDT"))["type"] == "subscribed"
        await publish_trades(nc, prefix, "ETH/USDT", 1)  # another symbol: not on this channel
        seq = await publish_trades(nc, prefix, "BTC/USDT", 10)
        first = await receive(ws, "event")
        assert (
            first["seq"] == seq and first["channel"] == "prices.BTC/USDT" and first["stream"] == "MD_TRADES"
        )
        assert first["event"]["data"]["trades"][0]["trade_id"] == "10"
        assert (await receive(ws, "heartbeat"))["time"] > 0
        await ws.close()

        missed = [await publish_trades(nc, prefix, "BTC/USDT", 20 + i) for i in range(3)]
        # reconnect, this time authenticated by subprotocol, and resume after the last seen sequence
        async with connect(ws_url(base), subprotocols=["tradeloom.v1", f"bearer.{token}"]) as again:  # type: ignore[list-item]
            assert again.subprotocol == "tradeloom.v1"
            assert (await receive(again))["type"] == "welcome"
            assert (await subscribe(again, "prices.BTC/USDT", after_seq=first["seq"]))["type"] == "subscribed"
            replayed = [(await receive(again, "event"))["seq"] for _ in missed]
            assert replayed == missed  # what it missed, in order, before live data
            live = await publish_trades(nc, prefix, "BTC/USDT", 99)
            assert (await receive(again, "event"))["seq"] == live
            await again.send(json.dumps({"op": "unsubscribe", "channel": "prices.BTC/USDT"}))
            assert (await receive(again, "unsubscribed"))["channel"] == "prices.BTC/USDT"
            for channel in ("candles.BTC/USDT.1m", "book.BTC/USDT"):
                assert (await subscribe(again, channel))["type"] == "subscribed"
            for bad in ("prices.BTC USDT", "candles.BTC/USDT.7x", "weather.today", "orders.someone"):
                refused = await subscribe(again, bad)
                assert refused["type"] == "error" and refused["code"] == "validation_error", refused


async def test_private_channels_carry_only_the_callers_data(servers: Servers, nc: NatsClient) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        bob_id, _ = await new_user(base, "bob@example.com")
        await publish_backtest(nc, prefix, "bt-bob-1", bob_id, 10.0)
        mine = await publish_backtest(nc, prefix, "bt-alice-1", alice_id, 50.0)
        ws = await open_socket(base, alice)
        refused = await subscribe(ws, "backtests.bt-bob-1")
        assert refused["type"] == "error" and refused["code"] == "not_found"
        assert (await subscribe(ws, "backtests.bt-alice-1", after_seq=0))["type"] == "subscribed"
        got = await receive(ws, "event")
        assert got["seq"] == mine and got["event"]["data"]["percent"] == 50.0

        assert (await subscribe(ws, "orders"))["type"] == "subscribed"
        assert (await subscribe(ws, "fills"))["type"] == "subscribed"
        await publish_raw(nc, prefix, "orders", "order_placed", {"user_id": bob_id, "order_id": "b1"})
        await publish_raw(nc, prefix, "orders", "order_placed", {"order_id": "nobody"})
        await publish_raw(nc, prefix, "orders", "order_placed", {"user_id": alice_id, "order_id": "a1"})
        await publish_raw(nc, prefix, "orders", "fill_recorded", {"user_id": alice_id, "fill_id": "f1"})
        # the two channels are fed by separate subscriptions: either event may come first
        received = {
            event["channel"]: event for event in [await receive(ws, "event"), await receive(ws, "event")]
        }
        order, fill = received["orders"], received["fills"]
        assert (order["channel"], order["event"]["data"]["order_id"]) == ("orders", "a1")
        assert (fill["channel"], fill["event"]["data"]["fill_id"]) == ("fills", "f1")
        with pytest.raises(TimeoutError):  # nothing of Bob's, nothing unowned
            await receive(ws, "event", timeout_s=0.5)
        await ws.close()


async def test_bad_credentials_and_expiry_close_with_a_reason(servers: Servers, nc: NatsClient) -> None:
    # iat/exp are whole seconds: a 3 s token expires 2..3 s after login (time enough to connect)
    async with served_gateway(*servers, nc, access_ttl_s=3, ws_auth_timeout_s=0.5) as base:
        _, token = await new_user(base, "brief@example.com")
        ws = await open_socket(base, token)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws, "never", timeout_s=8)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert "expired" in closed.value.rcvd.reason

        async with connect(ws_url(base)) as wrong:
            await wrong.send(json.dumps({"op": "auth", "token": "not-a-token"}))
            with pytest.raises(ConnectionClosed) as refused:
                await wrong.recv()
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401
        async with connect(ws_url(base)) as silent:
            with pytest.raises(ConnectionClosed) as timed_out:
                await silent.recv()
        assert timed_out.value.rcvd is not None and timed_out.value.rcvd.code == 4408


async def test_a_slow_consumer_is_cut_off_with_a_reason(servers: Servers, nc: NatsClient) -> None:
    """A client that stops reading: a raw socket that does the handshake, subscribes, then reads
    nothing while ~9 MB of trades arrive (more than the kernel's socket buffers hold)."""
    prefix = servers[3]
    async with served_gateway(*servers, nc, ws_max_buffer=5) as base:
        _, token = await new_user(base, "slow@example.com")
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        writer.write(
            b"GET /v1/ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        writer.write(_client_frame({"op": "auth", "token": token}))
        writer.write(_client_frame({"op": "subscribe", "channel": "prices.BTC/USDT"}))
        greeting = b""
        while b'"subscribed"' not in greeting:  # read until the subscription is confirmed
            chunk = await asyncio.wait_for(reader.read(65536), 30)
            assert chunk, "the server hung up before confirming the subscription"
            greeting += chunk
        writer.transport.pause_reading()  # from now on this client reads nothing
        for batch in range(40):  # ~220 kB each
            await publish_trades(nc, prefix, "BTC/USDT", batch * 2000, count=2000)
        await asyncio.sleep(0.5)
        writer.transport.resume_reading()
        close_payload = (4008).to_bytes(2, "big") + b"slow consumer"
        received = b""
        while close_payload not in received:  # the close frame comes after what was in flight
            chunk = await asyncio.wait_for(reader.read(2**20), 10)
            assert chunk, "the server hung up without the slow-consumer close frame"
            received += chunk
        writer.close()
        assert received.count(b'"type":"event"') < 40


def _client_frame(message: dict[str, object]) -> bytes:
    """A masked (all-zero mask) WebSocket text frame, as a client must send."""
    payload = json.dumps(message).encode()
    size = len(payload)
    header = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0xFE]) + size.to_bytes(2, "big")
    return header + b"\x00\x00\x00\x00" + payload


async def test_a_disabled_users_socket_is_closed_at_the_next_heartbeat(
    servers: Servers, nc: NatsClient
) -> None:
    database_url, _, schema, _ = servers
    async with served_gateway(*servers, nc, ws_heartbeat_s=0.2) as base:
        user_id, token = await new_user(base, "gone@example.com")
        ws = await open_socket(base, token)
        assert (await receive(ws, "heartbeat"))["type"] == "heartbeat"
        engine = create_engine(database_url)
        async with engine.begin() as conn:  # what POST /v1/admin/users/{id}/disable writes
            await conn.execute(
                text(f"UPDATE \"{schema}\".users SET status = 'disabled' WHERE id = :id"), {"id": user_id}
            )
        await engine.dispose()
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws, "never", timeout_s=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert "disabled" in closed.value.rcvd.reason
