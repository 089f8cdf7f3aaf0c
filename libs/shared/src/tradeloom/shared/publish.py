"""Publishing events to JetStream with ``Nats-Msg-Id`` and ``traceparent``."""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from nats.js.api import PubAck

from tradeloom.shared.context import HEADER_MSG_ID, correlation_id_var
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import inject_trace


def event_subject(subjects: Subjects, event: Event | type[Event], *keys: str) -> str:
    """The subject an event is published on: ``<domain>.evt.<name>.v<major>[.<keys>]``."""
    return subjects.event(event.domain, event.name, event.major, *keys)


def publish_headers(envelope: Envelope) -> dict[str, str]:
    """Headers of an envelope's message: the dedupe id and the trace context."""
    headers = {HEADER_MSG_ID: envelope.id, "tl-type": envelope.type}
    if envelope.traceparent:
        headers["traceparent"] = envelope.traceparent
    else:
        inject_trace(headers)
    return headers


def make_envelope(event: Event, source: str, **attributes: Any) -> Envelope:
    """Wrap an event, carrying the current trace and correlation ids unless given."""
    trace_headers = inject_trace({})
    attributes.setdefault("traceparent", trace_headers.get("traceparent"))
    attributes.setdefault("correlation_id", correlation_id_var.get())
    return Envelope.wrap(event, source=source, **attributes)


class EventPublisher:
    """Publishes envelopes directly (for events that need no database transaction, e.g. market data)."""

    def __init__(self, js: JetStreamContext, subjects: Subjects, source: str, timeout_s: float = 5.0):
        self.js = js
        self.subjects = subjects
        self.source = source
        self.timeout_s = timeout_s

    async def publish(self, event: Event, *keys: str, **attributes: Any) -> tuple[Envelope, PubAck]:
        envelope = make_envelope(event, self.source, **attributes)
        ack = await self.publish_envelope(event_subject(self.subjects, event, *keys), envelope)
        return envelope, ack

    async def publish_envelope(self, subject: str, envelope: Envelope) -> PubAck:
        return await self.js.publish(
            subject, envelope.to_bytes(), timeout=self.timeout_s, headers=publish_headers(envelope)
        )
