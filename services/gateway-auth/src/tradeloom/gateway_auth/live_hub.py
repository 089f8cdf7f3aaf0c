"""One JetStream consumer per live feed per gateway process, shared by every socket following it.

Before, each socket's subscription was its own ordered consumer, and a private channel's consumer
took the whole stream (``orders.evt.>``, ``risk.evt.>``) and dropped the other users' events: with
U users connected nats-server sent every user's event U times and the gateway parsed each copy
(O(U²)); a price went once per socket. Now a *live* feed (stream + filters) has one ordered
consumer, created with its first follower and removed with its last. Each message is decoded once
and handed, in stream order, to the followers that may see it: private followers are indexed by
user id, so an event reaches only its owner's (``data.user_id``) sockets, and every follower still
applies its ``Channel.delivers`` rule (never another user's event, the channel's event kinds only).

**Resume stays on its own consumer.** A subscription with ``after_seq`` (a reconnecting client)
is followed as before: its own ordered consumer from ``after_seq + 1`` (``feed.follow``), replayed
and then live through the same consumer, so it has no gap or double at any switch-over because
there is none. Handing a replay over to the hub would need a point both had seen (buffering the
hub's items, proving the replay caught up: a filter may match nothing between the two), more
moving parts for no gain where it matters: the dashboard re-subscribes live-only after a reconnect,
and so do the load bench's users; a resumed subscription costs one consumer, as before.

**Exactly once per follower across consumer resets.** nats-py's ordered consumer recreates its
consumer (missed heartbeats, e.g. after a nats-server restart) from the last stream sequence it
received + 1. Two safeguards: the hub starts at an explicit sequence (the stream's last + 1, read
first) and tells nats-py so, since it would otherwise restart a consumer that has received
nothing yet at sequence 1 and replay the whole stream; and the hub drops any message at or below
the last sequence it dispatched. Messages published while nats-server was down are delivered
after the reset, in order.

**Back-pressure is per socket**: a follower's ``deliver`` only queues (``WsSession._deliver``: over
``WS_MAX_BUFFER`` the socket is closed 4008); the hub never waits for a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry import trace

from tradeloom.gateway_auth.channels import Channel, Feed
from tradeloom.gateway_auth.feed import COMPACT, StreamItem, resume_after
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import extract_trace, tracer

log = logging.getLogger(__name__)
HUB_PENDING_MSGS = 100_000  # the NATS client's queue for one hub (its callback never waits)
IDLE_HEARTBEAT_S = 5.0  # two missed: nats-py recreates the consumer where it left off

FeedKey = tuple[str, tuple[str, ...]]  # (unprefixed stream, filters)


@dataclass(eq=False)
class Follower:
    """One socket's live subscription to one feed of a channel."""

    channel: Channel
    user_id: str
    deliver: Callable[[StreamItem], None]


@dataclass(eq=False)
class LiveFeed:
    """The shared consumer of one feed and who follows it."""

    stream: str  # unprefixed, as items name it
    filters: tuple[str, ...]
    everyone: set[Follower] = field(default_factory=set)  # followers of public channels
    by_user: dict[str, set[Follower]] = field(default_factory=dict)  # followers of private channels
    last_seq: int = 0  # the last stream sequence dispatched (or the start's baseline)
    subscription: Subscription | None = None
    js: JetStreamContext | None = None
    started: asyncio.Future[None] | None = None
    dropped: int = 0  # messages at or below ``last_seq`` (a reset consumer's repeats)

    def add(self, follower: Follower) -> None:
        if follower.channel.private:
            self.by_user.setdefault(follower.user_id, set()).add(follower)
        else:
            self.everyone.add(follower)

    def remove(self, follower: Follower) -> bool:
        """Whether it was following (a second removal is a no-op)."""
        if not follower.channel.private:
            found = follower in self.everyone
            self.everyone.discard(follower)
            return found
        mine = self.by_user.get(follower.user_id)
        if mine is None or follower not in mine:
            return False
        mine.discard(follower)
        if not mine:
            del self.by_user[follower.user_id]
        return True

    def followers(self) -> int:
        return len(self.everyone) + sum(len(mine) for mine in self.by_user.values())

    async def start(self, js: JetStreamContext, stream: str) -> None:
        """The ordered consumer, from the stream's next sequence (live only)."""
        self.js = js
        info = await js.stream_info(stream)
        self.last_seq = int(info.state.last_seq)
        config = ConsumerConfig(
            filter_subjects=list(self.filters) if len(self.filters) > 1 else None,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.last_seq + 1,
        )
        self.subscription = await js.subscribe(
            self.filters[0], stream=stream, config=config, ordered_consumer=True, cb=self._on_message,
            idle_heartbeat=IDLE_HEARTBEAT_S, pending_msgs_limit=HUB_PENDING_MSGS,
        )  # fmt: skip
        resume_after(self.subscription, self.last_seq)

    async def _on_message(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self.last_seq:
            self.dropped += 1
            return
        self.last_seq = seq
        self.dispatch(seq, msg.data, msg.headers, msg.subject)

    def dispatch(self, seq: int, raw: bytes, headers: dict[str, str] | None, subject: str = "") -> None:
        """Decode once; hand the item to each follower whose channel delivers it to its user."""
        try:
            envelope: dict[str, Any] = json.loads(raw)
            event_type, data = str(envelope["type"]), envelope["data"]
        except (ValueError, KeyError, TypeError):
            log.warning("skipping a malformed envelope on %s", subject)
            return
        if not isinstance(data, dict):
            return
        owner = data.get("user_id")
        owners = self.by_user.get(owner, ()) if isinstance(owner, str) else ()
        chosen: dict[str, list[Follower]] = {}
        for follower in (*self.everyone, *owners):
            if follower.channel.delivers(follower.user_id, event_type, data):
                chosen.setdefault(follower.channel.name, []).append(follower)
        if not chosen:
            return
        text = json.dumps(envelope, separators=COMPACT)
        context = extract_trace(headers)
        for name, followers in chosen.items():
            item = StreamItem(name, self.stream, seq, envelope, text)  # its wire text made once
            # one fan-out span per channel, in the event's trace (e.g. an order's, through its fill)
            with tracer().start_as_current_span(
                f"fan-out {name}", context=context, kind=trace.SpanKind.CONSUMER,
                attributes={"event.type": event_type, "followers": len(followers)},
            ):  # fmt: skip
                for follower in followers:
                    try:
                        follower.deliver(item)
                    except Exception:  # one socket's failure is not the others'
                        log.exception("delivering %s #%d to a socket failed", self.stream, seq)

    async def close(self) -> None:
        """Unsubscribe and delete the consumer (the server would drop it only after its inactivity)."""
        if self.started is not None:
            with contextlib.suppress(Exception):
                await self.started
        subscription, js = self.subscription, self.js
        if subscription is None or js is None:
            return
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
        with contextlib.suppress(Exception):
            info = await subscription.consumer_info()  # type: ignore[attr-defined]
            await js.delete_consumer(info.stream_name, info.name)


class Joined:
    """A socket's place in a live feed; ``unsubscribe`` leaves it (the last one out closes it)."""

    def __init__(self, hub: LiveHub, feed: LiveFeed, follower: Follower) -> None:
        self._hub, self._feed, self._follower = hub, feed, follower

    async def unsubscribe(self) -> None:
        closing = self._hub.leave(self._feed, self._follower)
        if closing is not None:
            await asyncio.shield(closing)


class LiveHub:
    """The live feeds of one gateway process, by (stream, filters)."""

    def __init__(self) -> None:
        self._feeds: dict[FeedKey, LiveFeed] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def join(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        channel: Channel,
        feed: Feed,
        *,
        user_id: str,
        deliver: Callable[[StreamItem], None],
    ) -> Joined:
        """Follow ``feed`` of ``channel`` live for ``user_id``; returns once the feed's consumer
        exists (raises what creating it raised)."""
        key = (feed.stream, feed.filters)
        live = self._feeds.get(key)
        if live is None:
            live = LiveFeed(feed.stream, feed.filters)
            self._feeds[key] = live
            live.started = asyncio.ensure_future(live.start(js, subjects.stream(feed.stream)))
            live.started.add_done_callback(functools.partial(self._failed, live))
        follower = Follower(channel, user_id, deliver)
        live.add(follower)
        assert live.started is not None
        try:
            await asyncio.shield(live.started)
        except BaseException:
            closing = self.leave(live, follower)
            if closing is not None:
                await asyncio.shield(closing)
            raise
        return Joined(self, live, follower)

    def leave(self, live: LiveFeed, follower: Follower) -> asyncio.Task[None] | None:
        """Remove a follower; the task closing the feed when it was the last (else None)."""
        if not live.remove(follower) or live.followers() > 0:
            return None
        key = (live.stream, live.filters)
        if self._feeds.get(key) is live:
            del self._feeds[key]
        if live.subscription is None and live.started is not None and live.started.done():
            return None  # it never started: nothing to close
        task = asyncio.ensure_future(live.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    def _failed(self, live: LiveFeed, started: asyncio.Future[None]) -> None:
        """A feed that could not start is forgotten at once: the next follower tries again."""
        if started.cancelled() or started.exception() is not None:
            key = (live.stream, live.filters)
            if self._feeds.get(key) is live:
                del self._feeds[key]

    def feeds(self) -> dict[FeedKey, int]:
        """Followers per live feed (for tests and diagnostics)."""
        return {key: live.followers() for key, live in self._feeds.items()}
