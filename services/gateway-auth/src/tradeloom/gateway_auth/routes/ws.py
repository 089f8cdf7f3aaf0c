"""``/v1/ws``: one authenticated WebSocket per client carrying the channels it subscribes to.

Protocol (JSON text frames):
- auth: the first message ``{"op": "auth", "token": "<access JWT or API key>"}`` within
  ``WS_AUTH_TIMEOUT_S``, or subprotocols ``["tradeloom.v1", "bearer.<token>"]`` (the server
  answers ``tradeloom.v1``). Then ``{"type": "welcome", "user_id", "expires_at", "heartbeat_s"}``.
- ``{"op": "subscribe", "channel": "...", "after_seq": 123}`` (``after_seq`` optional: resume
  after that stream sequence, otherwise live only; for a channel fed by several streams, e.g.
  ``alerts``, an integer resumes its first stream and ``{"RISK": 12, "ANALYTICS": 3}`` resumes each
  stream named, the others live) → ``{"type": "subscribed", "stream", "streams", ...}``, or
  ``{"type": "error", "code", "message", "channel"}`` (``not_found`` for another user's object).
- ``{"op": "unsubscribe", "channel": "..."}`` → ``{"type": "unsubscribed", "channel"}``.
- events: ``{"type": "event", "channel", "stream", "seq", "event": <envelope>}``;
  ``{"type": "heartbeat", "time"}`` every ``WS_HEARTBEAT_S`` (the caller's state is re-checked then,
  and at once when this replica learns the caller's access changed: see ``live_sockets``).
Closes: 4401 (not authenticated, token expired, account disabled or session ended), 4408 (no
auth message in time), 4008 (slow consumer: more than ``WS_MAX_BUFFER`` messages waiting), 4429
(rate limited); the reason says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from tradeloom.gateway_auth.auth import gateway_of_app, principal_for, token_expires_at
from tradeloom.gateway_auth.backtest_access import may_follow_backtest
from tradeloom.gateway_auth.bot_access import may_follow_bot
from tradeloom.gateway_auth.channels import BadChannel, Channel, parse_channel
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Principal, Scope
from tradeloom.gateway_auth.feed import Following, StreamItem, follow_all
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.shared.errors import ServiceError, Unauthorized

router = APIRouter()
PROTOCOL = "tradeloom.v1"
BEARER = "bearer."
CLOSE_UNAUTHORIZED, CLOSE_AUTH_TIMEOUT, CLOSE_SLOW, CLOSE_RATE = 4401, 4408, 4008, 4429


class Closing(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason is at most 123 bytes


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WsSession:
    def __init__(self, ws: WebSocket, gateway: Gateway) -> None:
        self.ws = ws
        self.gw = gateway
        self.settings = gateway.settings
        self.outbox: asyncio.Queue[str] = asyncio.Queue()  # messages as JSON text
        self.subscriptions: dict[str, list[Following]] = {}
        self.overflowed = False
        self.wake_up = asyncio.Event()  # set on overflow and when the caller's access may have changed
        self.credential = ""
        self.principal: Principal | None = None
        self.expires_at: float | None = None

    # --- connection --------------------------------------------------------------------------
    async def run(self) -> None:
        offered = list(self.ws.scope.get("subprotocols") or [])
        bearer = next((p[len(BEARER) :] for p in offered if p.startswith(BEARER)), None)
        await self.ws.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        try:
            await self._authenticate(bearer)
            assert self.principal is not None
            self.gw.live_sockets.register(self.principal.user_id, self.wake_up)
            await self._serve()
        except Closing as closing:
            await self._close(closing.code, closing.reason)
        except WebSocketDisconnect:
            pass
        finally:
            if self.principal is not None:
                self.gw.live_sockets.unregister(self.principal.user_id, self.wake_up)
            for subscriptions in self.subscriptions.values():
                for subscription in subscriptions:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def _authenticate(self, bearer: str | None) -> None:
        if bearer is None:
            try:
                first = await asyncio.wait_for(self.ws.receive_text(), self.settings.ws_auth_timeout_s)
            except TimeoutError as error:
                raise Closing(CLOSE_AUTH_TIMEOUT, "no auth message in time") from error
            message = _parse(first)
            if message.get("op") != "auth" or not isinstance(message.get("token"), str):
                raise Closing(CLOSE_UNAUTHORIZED, 'the first message must be {"op": "auth", "token": ...}')
            bearer = str(message["token"])
        try:
            self.principal = await principal_for(self.gw, bearer)
            self.expires_at = token_expires_at(self.gw, bearer)
        except Unauthorized as error:
            raise Closing(CLOSE_UNAUTHORIZED, error.message) from error
        self.credential = bearer
        ip = self.ws.client.host if self.ws.client else "unknown"
        wanted = [
            (self.gw.buckets[ratelimit.IP], ip),
            (self.gw.buckets[ratelimit.USER], self.principal.user_id),
        ]
        if await self.gw.limiter.take(wanted) is not None:
            raise Closing(CLOSE_RATE, "too many requests; reconnect later")
        await self.ws.send_json(
            {"type": "welcome", "user_id": self.principal.user_id, "expires_at": self.expires_at,
             "heartbeat_s": self.settings.ws_heartbeat_s}
        )  # fmt: skip

    async def _serve(self) -> None:
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._write()),
            asyncio.create_task(self._watch()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error

    # --- the three loops ---------------------------------------------------------------------
    async def _read(self) -> None:
        while True:
            message = _parse(await self.ws.receive_text())
            op, channel = message.get("op"), message.get("channel")
            if op == "subscribe" and isinstance(channel, str):
                await self._subscribe(channel, message.get("after_seq"))
            elif op == "unsubscribe" and isinstance(channel, str):
                for subscription in self.subscriptions.pop(channel, []):
                    await subscription.unsubscribe()
                self._send({"type": "unsubscribed", "channel": channel})
            else:
                self._error("validation_error", 'send {"op": "subscribe"|"unsubscribe", "channel": ...}')

    async def _write(self) -> None:
        while True:
            await self.ws.send_text(await self.outbox.get())

    async def _watch(self) -> None:
        """Heartbeats, expiry, a re-check of the caller's state (each heartbeat, and at once when
        ``Gateway.access_changed`` names this user), and the slow-consumer cut-off."""
        beat_s = self.settings.ws_heartbeat_s
        next_beat = time.monotonic() + beat_s
        while True:
            wait = max(0.0, next_beat - time.monotonic())
            if self.expires_at is not None:
                wait = max(0.0, min(wait, self.expires_at - time.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake_up.wait(), wait)
            self.wake_up.clear()
            if self.overflowed:
                limit = self.settings.ws_max_buffer
                raise Closing(CLOSE_SLOW, f"slow consumer: more than {limit} messages waiting")
            if self.expires_at is not None and time.time() >= self.expires_at:
                raise Closing(CLOSE_UNAUTHORIZED, "token expired; reconnect with a fresh token")
            try:
                await principal_for(self.gw, self.credential)
            except Unauthorized as error:
                raise Closing(CLOSE_UNAUTHORIZED, error.message) from error
            if time.monotonic() >= next_beat:
                self._send({"type": "heartbeat", "time": time.time()})
                next_beat = time.monotonic() + beat_s

    # --- subscriptions -----------------------------------------------------------------------
    async def _subscribe(self, name: str, after_seq: object) -> None:
        try:
            channel = await self._admit(name, after_seq)
            self.subscriptions[name] = await follow_all(
                self.gw.js, self.gw.subjects, channel, self.principal.user_id if self.principal else "",
                after_seqs=_after_seqs(channel, after_seq), deliver=self._deliver,
                envelopes=self.gw.envelopes, hub=self.gw.live_hub,
            )  # fmt: skip
        except Refused as refused:
            return self._error(refused.code, refused.message, name)
        except Exception as error:  # NATS unavailable: say so, keep the socket
            return self._error("unavailable", f"could not subscribe: {type(error).__name__}", name)
        streams = [feed.stream for feed in channel.feeds()]
        self._send(
            {"type": "subscribed", "channel": name, "stream": channel.stream, "streams": streams,
             "after_seq": after_seq}
        )  # fmt: skip
        return None

    async def _admit(self, name: str, after_seq: object) -> Channel:
        """The channel if this caller may subscribe to it now; ``Refused`` saying why otherwise."""
        assert self.principal is not None
        if after_seq is not None and not _is_seq(after_seq) and not isinstance(after_seq, dict):
            raise Refused("validation_error", "after_seq: a stream sequence (integer >= 0)")
        if self.principal.missing(Scope.READ):
            raise Refused("forbidden", "channels need the 'read' scope")
        try:
            channel = parse_channel(name, self.gw.subjects, self.settings.ws_venue)
        except BadChannel as error:
            raise Refused("validation_error", str(error)) from error
        if isinstance(after_seq, dict):
            streams = {feed.stream for feed in channel.feeds()}
            for stream, seq in after_seq.items():
                if stream not in streams or not _is_seq(seq):
                    raise Refused(
                        "validation_error",
                        f"after_seq: {{stream: sequence}}, streams of {sorted(streams)}, integers >= 0",
                    )
        if name in self.subscriptions:
            raise Refused("conflict", "already subscribed")
        if len(self.subscriptions) >= self.settings.ws_max_subscriptions:
            raise Refused("validation_error", "too many subscriptions on this socket")
        backtest_id = channel.object_id if channel.stream == "BACKTEST_EVENTS" else None
        if backtest_id is not None and not await may_follow_backtest(self.gw, self.principal, backtest_id):
            raise Refused("not_found", "no such backtest")  # the same answer as an unknown one
        bot_id = channel.object_id if channel.stream == "STRATEGY" else None
        if bot_id is not None and not await may_follow_bot(self.gw, self.principal, bot_id):
            raise Refused("not_found", "no such bot")
        return channel

    def _deliver(self, item: StreamItem) -> None:
        if self.outbox.qsize() >= self.settings.ws_max_buffer:
            self.overflowed = True  # the watcher closes the socket; nothing more is queued
            self.wake_up.set()
            return
        if not self.overflowed:
            self.outbox.put_nowait(item.text())  # the envelope's text is shared by every socket

    def _send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps(message, separators=(",", ":")))

    def _error(self, code: str, message: str, channel: str | None = None) -> None:
        self._send({"type": "error", "code": code, "message": message, "channel": channel})


def _is_seq(value: object) -> bool:
    return type(value) is int and value >= 0


def _after_seqs(channel: Channel, after_seq: object) -> dict[str, int]:
    """Where each stream of the channel resumes (admitted ``after_seq``: None, an int or a dict)."""
    if isinstance(after_seq, dict):
        return {str(stream): int(seq) for stream, seq in after_seq.items()}
    return {} if after_seq is None else {channel.stream: int(str(after_seq))}


def _parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@router.websocket("/v1/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    try:
        await WsSession(ws, gateway_of_app(ws.app)).run()
    except ServiceError:
        await ws.close(1011, "internal error")
