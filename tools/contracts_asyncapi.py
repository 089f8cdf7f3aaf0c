"""The AsyncAPI 3.0 document of every event channel and request/reply operation (``make contracts``).

``tools/contracts.py`` gathers what the catalog declares into ``EventSpec`` and ``RequestSpec``
records; this module only lays them out as AsyncAPI. Who publishes and who consumes each domain
follows DESIGN section 1 (``DOMAIN_OWNERS`` and ``EVENT_CONSUMERS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradeloom.shared.context import (
    HEADER_MSG_ID,
    HEADER_REQUEST_ID,
    HEADER_ROLES,
    HEADER_TRACEPARENT,
    HEADER_USER_ID,
)
from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.streams import STREAMS, StreamSpec

EVERY_SERVICE = "*"

# The service that publishes each event domain (DESIGN section 1); "*": every service does.
DOMAIN_OWNERS: dict[str, str] = {
    "system": EVERY_SERVICE,
    "auth": "gateway-auth",
    "md": "market-data",
    "orders": "order-router",
    "risk": "risk-monitor",
    "backtest": "backtest-engine",
    "analytics": "analytics",
    "sandbox": "sandbox-executor",
    "strategy": "strategy-runner",
}

# Who consumes what (DESIGN section 1), keyed by "<domain>" or "<domain>.<name>"; both keys apply.
# The gateway fans user-visible domains out to WebSocket clients.
EVENT_CONSUMERS: dict[str, tuple[str, ...]] = {
    "auth": ("gateway-auth",),
    "md": ("analytics", "gateway-auth"),
    "md.trade": ("market-data", "order-router", "risk-monitor"),
    "md.candle_closed": ("strategy-runner",),
    "orders": ("risk-monitor", "analytics", "strategy-runner", "gateway-auth"),
    "risk": ("analytics", "gateway-auth"),
    "risk.halt": ("order-router", "strategy-runner"),
    "backtest": ("gateway-auth",),
    "analytics": ("gateway-auth",),
    "sandbox": ("gateway-auth",),
    "strategy": ("gateway-auth",),
}


def publishers(domain: str) -> tuple[str, ...]:
    """The services that publish events of ``domain`` (every service for ``system``)."""
    if domain not in DOMAIN_OWNERS:
        raise ValueError(f"event domain {domain!r} has no owner: add it to DOMAIN_OWNERS in {__file__}")
    owner = DOMAIN_OWNERS[domain]
    return SERVICES if owner == EVERY_SERVICE else (owner,)


def consumers(domain: str, name: str) -> tuple[str, ...]:
    """The services that consume ``<domain>.<name>`` events, in SERVICES order."""
    wanted = {*EVENT_CONSUMERS.get(domain, ()), *EVENT_CONSUMERS.get(f"{domain}.{name}", ())}
    return tuple(service for service in SERVICES if service in wanted)


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match (``*`` one token, ``>`` one or more trailing tokens)."""
    want, have = pattern.split("."), subject.split(".")
    for index, part in enumerate(want):
        if part == ">":
            return len(have) > index
        if index >= len(have) or part not in ("*", have[index]):
            return False
    return len(want) == len(have)


def stream_for(name: str, subject: str) -> StreamSpec:
    """The declared stream ``name``; refuses one whose subjects do not capture ``subject``."""
    for spec in STREAMS:
        if spec.name == name:
            if not any(subject_matches(pattern, subject) for pattern in spec.subjects):
                raise ValueError(f"{subject} is not captured by stream {spec.name} {spec.subjects}")
            return spec
    raise ValueError(f"{subject}: unknown stream {name!r}")


@dataclass(frozen=True)
class EventSpec:
    """One event type as the AsyncAPI document needs it."""

    key: str  # <domain>.<name>.v<major>
    title: str
    event_type: str
    dataschema: str
    address: str  # subject pattern with {key} parameters
    keys: tuple[str, ...]
    key_examples: dict[str, str]
    stream: str
    stream_description: str
    stream_subjects: tuple[str, ...]
    description: str
    schema_file: str  # relative to contracts/
    example: dict[str, Any]
    senders: tuple[str, ...]
    receivers: tuple[str, ...]


@dataclass(frozen=True)
class RequestSpec:
    """One request/reply operation (``service='*'``: every service has it)."""

    service: str
    op: str
    stem: str  # file stem: <service-or-any>.<op>
    description: str
    request_title: str
    reply_title: str
    request_file: str
    reply_file: str
    request_example: dict[str, Any]
    reply_example: dict[str, Any]
    binary_reply: bool = False  # the reply file is the header of a binary frame (see the op)


def _ref(pointer: str) -> dict[str, str]:
    return {"$ref": pointer}


def _tags(services: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"name": service} for service in services]


def _event_parts(spec: EventSpec, channels: dict[str, Any], operations: dict[str, Any]) -> dict[str, Any]:
    """Add the channel and operations of one event; return its component message."""
    stream_note = (
        f"Stream `{spec.stream}` ({spec.stream_description}; subjects {', '.join(spec.stream_subjects)})."
    )
    channels[spec.key] = {
        "address": spec.address,
        "title": spec.title,
        "description": f"{spec.description} {stream_note}".strip(),
        "parameters": {
            key: {"description": f"subject key `{key}`", "examples": [spec.key_examples[key]]}
            for key in spec.keys
        },
        "messages": {spec.title: _ref(f"#/components/messages/{spec.key}")},
        "x-stream": spec.stream,
    }
    message_ref = _ref(f"#/channels/{spec.key}/messages/{spec.title}")
    operations[f"{spec.key}.publish"] = {
        "action": "send",
        "channel": _ref(f"#/channels/{spec.key}"),
        "messages": [message_ref],
        "summary": f"Publish {spec.event_type} to stream {spec.stream} (outbox relay, Nats-Msg-Id = id).",
        "tags": _tags(spec.senders),
    }
    if spec.receivers:
        operations[f"{spec.key}.consume"] = {
            "action": "receive",
            "channel": _ref(f"#/channels/{spec.key}"),
            "messages": [message_ref],
            "summary": f"Consume {spec.event_type} from stream {spec.stream} (durable pull, inbox dedupe).",
            "tags": _tags(spec.receivers),
        }
    return {
        "name": spec.title,
        "title": spec.event_type,
        "summary": spec.description,
        "contentType": "application/json",
        "headers": _ref("#/components/schemas/EventHeaders"),
        "payload": {
            "allOf": [
                _ref("./shared/envelope.schema.json"),
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": spec.event_type},
                        "dataschema": {"const": spec.dataschema},
                        "data": _ref(f"./{spec.schema_file}"),
                    },
                },
            ]
        },
        "examples": [
            {
                "name": "example",
                "headers": {HEADER_MSG_ID: spec.example["id"], "tl-type": spec.event_type},
                "payload": spec.example,
            }
        ],
    }


def _request_parts(spec: RequestSpec, messages: dict[str, Any]) -> None:
    """Add the request and reply component messages of one operation."""
    messages[f"{spec.stem}.request"] = {
        "name": spec.request_title,
        "title": f"svc.<service>.{spec.op} request" if spec.service == EVERY_SERVICE else spec.stem,
        "summary": spec.description,
        "contentType": "application/json",
        "headers": _ref("#/components/schemas/RequestHeaders"),
        "payload": _ref(f"./{spec.request_file}"),
        "examples": [{"name": "example", "payload": spec.request_example}],
    }
    if spec.binary_reply:
        messages[f"{spec.stem}.reply"] = _binary_reply(spec)
        return
    messages[f"{spec.stem}.reply"] = {
        "name": spec.reply_title,
        "title": f"reply: {{data: {spec.reply_title}}} or {{error}}",
        "contentType": "application/json",
        "payload": {
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["data"],
                    "properties": {"data": _ref(f"./{spec.reply_file}")},
                },
                _ref("./shared/error-reply.schema.json"),
            ]
        },
        "examples": [{"name": "example", "payload": {"data": spec.reply_example}}],
    }


def _binary_reply(spec: RequestSpec) -> dict[str, Any]:
    """A reply that is one binary frame (magic, uint32 header length, the JSON header, columns) or
    the JSON ``{error}``; the frame's layout is in the operation's description and schema module."""
    return {
        "name": spec.reply_title,
        "title": f"reply: binary frame with a {spec.reply_title} header, or {{error}}",
        "contentType": "application/octet-stream",
        "description": "b'TLC1', a little-endian uint32 header length, the header (JSON, padded to 8 "
        "bytes), then the header's columns of `count` little-endian 8-byte values each; an error "
        "is the JSON {error} reply",
        "payload": {
            "oneOf": [
                {"type": "string", "format": "binary", "x-header": _ref(f"./{spec.reply_file}")},
                _ref("./shared/error-reply.schema.json"),
            ]
        },
        "examples": [{"name": "header", "payload": spec.reply_example}],
    }


def _request_operation(
    spec: RequestSpec, service: str, channels: dict[str, Any], operations: dict[str, Any]
) -> None:
    """Add the channels and the operation ``svc.<service>.<op>`` for one concrete service."""
    subject = f"svc.{service}.{spec.op}"
    channels[subject] = {
        "address": subject,
        "description": spec.description,
        "messages": {"request": _ref(f"#/components/messages/{spec.stem}.request")},
    }
    channels[f"{subject}.reply"] = {
        "address": None,
        "description": f"the requester's inbox (NATS reply subject) for {subject}",
        "messages": {"reply": _ref(f"#/components/messages/{spec.stem}.reply")},
    }
    operations[subject] = {
        "action": "receive",
        "channel": _ref(f"#/channels/{subject}"),
        "messages": [_ref(f"#/channels/{subject}/messages/request")],
        "reply": {
            "channel": _ref(f"#/channels/{subject}.reply"),
            "messages": [_ref(f"#/channels/{subject}.reply/messages/reply")],
        },
        "summary": spec.description,
        "tags": _tags((service,)),
        "bindings": {"nats": {"queue": f"svc-{service}", "bindingVersion": "0.1.0"}},
    }


def build_asyncapi(events: list[EventSpec], requests: list[RequestSpec], version: str) -> dict[str, Any]:
    """The whole AsyncAPI 3.0 document; schemas are referenced as files beside it."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in events:
        messages[event.key] = _event_parts(event, channels, operations)
    for request in requests:
        _request_parts(request, messages)
        services = SERVICES if request.service == EVERY_SERVICE else (request.service,)
        for service in services:
            _request_operation(request, service, channels, operations)
    string = {"type": "string"}
    return {
        "asyncapi": "3.0.0",
        "id": "urn:tradeloom:messaging",
        "info": {
            "title": "Tradeloom messaging",
            "version": version,
            "description": (
                "Events on NATS JetStream (`<domain>.evt.<name>.v<major>[.<keys>]`, CloudEvents envelope) "
                "and request/reply operations `svc.<service>.<op>` (reply `{data}` or `{error}`). "
                "Generated by tools/contracts.py from tradeloom.shared.contracts.catalog; do not edit."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "development": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "the `make run` dev stack (NATS_URL)",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                "EventHeaders": {
                    "type": "object",
                    "required": [HEADER_MSG_ID],
                    "properties": {
                        HEADER_MSG_ID: {**string, "description": "the envelope id (JetStream dedupe)"},
                        "tl-type": {**string, "description": "the envelope type"},
                        HEADER_TRACEPARENT: {**string, "description": "W3C trace context"},
                    },
                },
                "RequestHeaders": {
                    "type": "object",
                    "properties": {
                        HEADER_USER_ID: {**string, "description": "caller (trusted from the gateway only)"},
                        HEADER_ROLES: {**string, "description": "comma-separated roles"},
                        HEADER_REQUEST_ID: {**string, "description": "request id, echoed in the reply"},
                        HEADER_TRACEPARENT: {**string, "description": "W3C trace context"},
                    },
                },
            },
        },
    }
