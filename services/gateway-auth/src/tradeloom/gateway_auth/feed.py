"""Follow a channel on JetStream: replay from a stream sequence, then live, with no gap in between.

A subscription that resumes (``after_seq``) is an *ordered consumer* of its own (ephemeral,
in-memory, flow-controlled, no acks) starting at ``after_seq + 1``
(``DeliverPolicy.BY_START_SEQUENCE``), which then simply keeps going — replayed and live messages
come through the same consumer, in stream order, so nothing is lost or doubled at the switch-over.
A live-only subscription joins the process's shared consumer of its feed instead (``live_hub``),
when ``follow_all`` is given the hub (the WebSocket's channels); ``follow`` alone (the backtest
SSE) always makes its own. Every item carries its stream sequence; the client resumes with the
last one it saw. A channel fed by several streams (``Channel.feeds``) is followed once per stream
(``follow_all``); items name their stream, and a client resumes each stream after its own last
sequence.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import trace

from tradeloom.gateway_auth.channels import Channel, Feed, backtest_subjects
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import extract_trace, tracer

if TYPE_CHECKING:
    from tradeloom.gateway_auth.live_hub import LiveHub

log = logging.getLogger(__name__)
PENDING_MSGS = 10_000  # per subscription in the NATS client; the per-socket bound is the gateway's
COMPACT = (",", ":")


class Envelopes:
    """Each event decoded and re-encoded once per gateway process, not once per socket.

    For the subscriptions that have a consumer of their own (resumed WebSocket channels, SSE),
    each receives its own copy of an event; this keeps them from parsing and serialising it once
    each (live sockets share one consumer per feed and one decode: ``live_hub``). Keyed
    by the raw bytes (equal events, equal bytes); the newest ``max_entries`` are kept. The decoded
    envelope is shared: readers must not change it."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._items: dict[bytes, tuple[dict[str, Any], str]] = {}

    def decode(self, raw: bytes) -> tuple[dict[str, Any], str]:
        """The envelope and its compact JSON text; raises ``ValueError`` for bytes that are not JSON."""
        found = self._items.get(raw)
        if found is None:
            envelope = json.loads(raw)
            found = (envelope, json.dumps(envelope, separators=COMPACT))
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[raw] = found
        return found


@dataclass(frozen=True)
class StreamItem:
    channel: str
    stream: str
    seq: int
    event: dict[str, Any]  # the envelope (CloudEvents attributes + data)
    event_text: str = ""  # the envelope as compact JSON, when already made (Envelopes)

    def message(self) -> dict[str, Any]:
        return {"type": "event", "channel": self.channel, "stream": self.stream, "seq": self.seq,
                "event": self.event}  # fmt: skip

    def text(self) -> str:
        """``message()`` as compact JSON, reusing the envelope's text (the same bytes as dumping it);
        made once per item, which the live hub hands to every socket of a channel."""
        return self.wire_text

    @cached_property
    def wire_text(self) -> str:
        head = json.dumps({"type": "event", "channel": self.channel, "stream": self.stream, "seq": self.seq},
                          separators=COMPACT)  # fmt: skip
        return f'{head[:-1]},"event":{self.event_text or json.dumps(self.event, separators=COMPACT)}}}'


class Following(Protocol):
    """A subscription of a socket to one feed: its own consumer or its place in a live feed."""

    async def unsubscribe(self) -> Any: ...


async def follow(
    js: JetStreamContext,
    subjects: Subjects,
    channel: Channel,
    caller_id: str,
    *,
    after_seq: int | None,
    deliver: Callable[[StreamItem], None],
    feed: Feed | None = None,
    envelopes: Envelopes | None = None,
) -> Subscription:
    """Subscribe to one feed of the channel (its first by default); ``deliver`` is called
    (synchronously, in stream order) with each item the caller may see. ``after_seq`` None means
    live only. ``envelopes``: the process's shared decoder (a private one when not given).

    The start is always an explicit stream sequence (live only: the stream's last + 1), and nats-py
    is told it (``resume_after``): its ordered consumer, reset before its first message (a
    nats-server restart), would otherwise be recreated at sequence 1 and replay the stream; any
    message at or below the last one delivered is dropped."""
    feed = feed or channel.feeds()[0]
    decoder = envelopes or Envelopes(max_entries=16)
    stream = subjects.stream(feed.stream)
    if after_seq is None:
        after_seq = int((await js.stream_info(stream)).state.last_seq)
    config = ConsumerConfig(
        filter_subjects=list(feed.filters) if len(feed.filters) > 1 else None,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_seq + 1,
    )
    last = [after_seq]

    async def on_message(msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= last[0]:
            return  # a reset consumer's repeat
        last[0] = seq
        try:
            envelope, text = decoder.decode(msg.data)
            event_type, data = str(envelope["type"]), envelope["data"]
        except (ValueError, KeyError, TypeError):
            log.warning("skipping a malformed envelope on %s", msg.subject)
            return
        if isinstance(data, dict) and channel.delivers(caller_id, event_type, data):
            # the fan-out to this client joins the event's trace (e.g. an order's, through its fill)
            with tracer().start_as_current_span(
                f"fan-out {channel.name}",
                context=extract_trace(msg.headers),
                kind=trace.SpanKind.CONSUMER,
                attributes={"event.type": event_type},
            ):
                deliver(StreamItem(channel.name, feed.stream, seq, envelope, text))

    subscription = await js.subscribe(
        feed.filters[0], stream=stream, config=config, ordered_consumer=True, cb=on_message,
        idle_heartbeat=5.0, pending_msgs_limit=PENDING_MSGS,
    )  # fmt: skip
    resume_after(subscription, after_seq)
    return subscription


def resume_after(subscription: Subscription, seq: int) -> None:
    """Make nats-py recreate a reset consumer after ``seq`` rather than at 1 if it is reset before
    its first message (its ordered consumer tracks the last stream sequence received, 0 at first).
    A private attribute of nats-py (pinned); without it the callers' drop of repeats still holds."""
    state = getattr(getattr(subscription, "_sub", None), "_jsi", None)
    if state is not None and getattr(state, "_sseq", None) == 0:
        state._sseq = seq


async def follow_all(
    js: JetStreamContext,
    subjects: Subjects,
    channel: Channel,
    caller_id: str,
    *,
    after_seqs: dict[str, int],
    deliver: Callable[[StreamItem], None],
    envelopes: Envelopes | None = None,
    hub: LiveHub | None = None,
) -> list[Following]:
    """Each feed of the channel followed: a stream named in ``after_seqs`` resumes after that
    sequence on its own ordered consumer, the others are live only (on ``hub``'s shared consumer
    when given). If one subscription fails, those made are undone."""
    made: list[Following] = []
    try:
        for feed in channel.feeds():
            if hub is not None and feed.stream not in after_seqs:
                made.append(await hub.join(js, subjects, channel, feed, user_id=caller_id, deliver=deliver))
                continue
            made.append(
                await follow(
                    js,
                    subjects,
                    channel,
                    caller_id,
                    after_seq=after_seqs.get(feed.stream),
                    deliver=deliver,
                    feed=feed,
                    envelopes=envelopes,
                )
            )
    except BaseException:
        for subscription in made:
            with contextlib.suppress(Exception):  # already failing: the original error matters
                await subscription.unsubscribe()
        raise
    return made


async def backtest_owner(js: JetStreamContext, subjects: Subjects, backtest_id: str) -> str | None:
    """The ``user_id`` of a backtest's latest event on the stream (None: no event of it yet)."""
    stream = subjects.stream("BACKTEST_EVENTS")
    for subject in backtest_subjects(subjects, backtest_id):
        try:
            raw = await js.get_last_msg(stream, subject)
        except NotFoundError:
            continue
        except NatsError:
            log.warning("could not read the last event of %s", subject)
            continue
        try:
            owner = json.loads(raw.data or b"{}")["data"]["user_id"]
        except (ValueError, KeyError, TypeError):
            continue
        return str(owner)
    return None
