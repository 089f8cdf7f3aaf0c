"""Request/reply over the NATS service API (``nats.micro``) with the error envelope of DESIGN 2.

Server side: ``serve()`` registers typed operations ``svc.<service>.<op>`` in a queue group;
each reply is ``{"data": ...}`` or ``{"error": {"code", "message", "details"}}``. Client side:
``ServiceClient.call()`` carries the caller's identity and trace in headers and turns "nobody
answered" into ``Unavailable`` at once and a deadline into ``Timeout``, never a hang.

Every request carries how long its caller waits (``tl-timeout``, seconds). A request that waited
longer than that in the serving process for a handler slot (the operation's ``max_concurrency``
all busy) is dropped unanswered: its caller has already given up (a 504 at the gateway, whose
client retries with the same idempotency key), so working it would only push every request behind
it past its own deadline too. The wait is measured on the server's own clock from the request's
arrival, so clocks of different hosts never matter. More than ``max_waiting`` requests waiting
for a slot: the next is answered ``unavailable`` (503, "overloaded") at once. Under overload a
service then answers what it can instead of working a backlog of abandoned requests.

Both sides respect the connection's ``max_payload`` (the server's, from its INFO): a request over
it is ``PayloadTooLarge`` (413 ``payload_too_large``) before it is sent, and a reply over it is
replaced by a small 413 ``reply_too_large`` error, so the caller hears at once instead of timing out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import Service
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

from tradeloom.shared.context import HEADER_REQUEST_ID, CallerContext, request_id_var
from tradeloom.shared.errors import PayloadTooLarge, ServiceError, Timeout, Unavailable
from tradeloom.shared.rpc_deadline import HEADER_TIMEOUT, DroppedRequests, abandoned, overloaded_reply
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import extract_trace, inject_trace, tracer

log = logging.getLogger(__name__)

# pauses before asking again while a subject has no responder (a reconnect, a restart): ~70 ms
NO_RESPONDER_PAUSES_S = (0.02, 0.05)
DATA_PREFIX = b'{"data":{'  # how a reply holding an object starts (``_encoded``)
RequestT = TypeVar("RequestT", bound=BaseModel)
ReplyT = TypeVar("ReplyT", bound=BaseModel)


@dataclass(frozen=True)
class RawReply:
    """A binary reply sent as is instead of ``{"data": ...}`` (an op whose contract says so, e.g.
    ``candles_packed``). Its first byte must not be ``{``: callers tell it from a JSON error that way."""

    payload: bytes


@dataclass(frozen=True)
class JsonReply:
    """A reply its handler has already serialised (its reply model's JSON text, e.g. to measure it
    against ``max_payload``), sent as ``{"data": …}`` without serialising it a second time."""

    json: bytes


@dataclass(frozen=True)
class Operation(Generic[RequestT, ReplyT]):
    """One request/reply operation: its name, models and handler (``reply_model`` documents the
    reply; a handler of a binary op returns ``RawReply``)."""

    name: str
    request_model: type[RequestT]
    reply_model: type[ReplyT]
    handler: Callable[[CallerContext, RequestT], Awaitable[ReplyT | RawReply | JsonReply]]
    description: str = ""
    max_concurrency: int = 64
    max_waiting: int = 1024  # requests waiting for a slot before the next is refused (503) at once


class RemoteError(ServiceError):
    """An error reply from another service, re-raised on the caller's side."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, details=details)


def validation_details(error: ValidationError) -> dict[str, Any]:
    """Pydantic errors as ``{"fields": [{"field": "a.b", "message": ...}]}``."""
    fields = [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "message": item["msg"]}
        for item in error.errors()
    ]
    return {"fields": fields}


def _error_reply(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": details or {}}}).encode()


def message_size(payload: bytes, headers: Mapping[str, str] | None = None) -> int:
    """The bytes nats-server counts against ``max_payload``: the payload and the ``NATS/1.0`` header
    block (nats-py checks the payload alone, but the server closes a connection that sends more)."""
    if not headers:
        return len(payload)
    lines = sum(len(key.encode()) + len(str(value).encode()) + 4 for key, value in headers.items())
    return len(payload) + len(b"NATS/1.0\r\n") + lines + 2


def fit_reply(payload: bytes, headers: Mapping[str, str] | None, max_payload: int, what: str) -> bytes:
    """``payload``, or a small ``reply_too_large`` error when it (with headers) exceeds ``max_payload``."""
    size = message_size(payload, headers)
    return payload if size <= max_payload else reply_too_large(what, size, max_payload)


def reply_too_large(what: str, size: int, max_payload: int) -> bytes:
    """The error reply sent instead of a reply of ``size`` bytes that NATS would refuse."""
    log.warning(
        "the reply of %s is %d bytes, over max_payload %d: answered reply_too_large", what, size, max_payload
    )
    return _error_reply(
        "reply_too_large",
        f"the reply of {what} would be {size} bytes, over the message bus limit (max_payload) of "
        f"{max_payload} bytes: ask for fewer items or a page",
        {"size_bytes": size, "max_payload_bytes": max_payload},
    )


async def handle_request(operation: Operation[Any, Any], service: str, request: Request) -> bytes:
    """Decode, validate, run and encode one request; never raises."""
    caller = CallerContext.from_headers(request.headers)
    request_token = request_id_var.set(caller.request_id)
    try:
        with tracer().start_as_current_span(
            f"svc.{service}.{operation.name}",
            context=extract_trace(request.headers),
            kind=trace.SpanKind.SERVER,
        ):
            try:  # parsed and validated in one pass (pydantic-core); a refusal is explained below
                body = operation.request_model.model_validate_json(request.data or b"{}")
            except ValidationError:
                try:
                    raw = json.loads(request.data or b"{}")
                except ValueError as error:
                    return _error_reply("bad_request", f"request body is not valid JSON: {error}")
                try:
                    body = operation.request_model.model_validate(raw)
                except ValidationError as error:
                    return _error_reply("validation_error", "invalid request", validation_details(error))
            try:
                reply = await operation.handler(caller, body)
            except ServiceError as error:
                encoded: bytes = json.dumps(error.to_reply(), default=str).encode()
                return encoded
            except Exception:
                log.exception("unhandled error in svc.%s.%s", service, operation.name)
                return _error_reply("internal", "internal error", {"request_id": caller.request_id})
            return _encoded(reply)
    finally:
        request_id_var.reset(request_token)


def _encoded(reply: BaseModel | RawReply | JsonReply) -> bytes:
    if isinstance(reply, RawReply):
        return reply.payload
    data = reply.json if isinstance(reply, JsonReply) else reply.model_dump_json().encode()
    return b'{"data":' + data + b"}"


async def serve(
    nc: Client,
    *,
    service: str,
    version: str,
    subjects: Subjects,
    operations: list[Operation[Any, Any]],
    description: str = "",
) -> Service:
    """Start a micro service answering ``svc.<service>.<op>`` for every operation."""
    micro = await add_service(
        nc,
        name=service,
        version=version,
        description=description or f"tradeloom {service}",
        queue_group=f"svc-{service}",
    )
    group = micro.add_group(name=subjects.request_group(service))
    running: set[asyncio.Task[None]] = set()
    dropped = DroppedRequests()
    for operation in operations:
        # nats.micro awaits each handler before taking the next message of its subscription, so
        # each request is handed to a task at once; the task waits for one of the operation's slots.
        slots = asyncio.Semaphore(operation.max_concurrency)
        waiting = [0]  # requests of this operation waiting for a slot

        async def answer(
            request: Request, operation: Operation[Any, Any], slots: asyncio.Semaphore, waiting: list[int]
        ) -> None:
            arrived = time.monotonic()
            try:
                try:
                    await slots.acquire()
                finally:
                    waiting[0] -= 1
                try:
                    if abandoned(request.headers, time.monotonic() - arrived):
                        dropped.note(service, operation.name)
                        return
                    await respond(request, operation)
                finally:
                    slots.release()
            except Exception:  # the caller times out; never let a task die silently
                log.exception("could not answer svc.%s.%s", service, operation.name)

        async def respond(request: Request, operation: Operation[Any, Any]) -> None:
            payload = await handle_request(operation, service, request)
            headers = {}
            request_id = (request.headers or {}).get(HEADER_REQUEST_ID)
            if request_id:
                headers[HEADER_REQUEST_ID] = request_id
            what = f"svc.{service}.{operation.name}"
            payload = fit_reply(payload, headers, nc.max_payload, what)
            try:
                await request.respond(payload, headers=headers or None)
            except nats.errors.MaxPayloadError:  # the limit shrank under us (a reconnect)
                size = message_size(payload, headers)
                await request.respond(reply_too_large(what, size, nc.max_payload), headers=headers or None)

        async def endpoint(
            request: Request,
            operation: Operation[Any, Any] = operation,
            slots: asyncio.Semaphore = slots,
            waiting: list[int] = waiting,
        ) -> None:
            if slots.locked() and waiting[0] >= operation.max_waiting:
                dropped.note(service, operation.name)
                await request.respond(overloaded_reply(service, operation.name, waiting[0]))
                return
            waiting[0] += 1
            task = asyncio.create_task(answer(request, operation, slots, waiting))
            running.add(task)
            task.add_done_callback(running.discard)

        await group.add_endpoint(name=operation.name, handler=endpoint)
    await nc.flush()  # the subscriptions are at the server: a request right after finds a responder
    return micro


def _request_too_large(service: str, op: str, size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request to {service}.{op} is {size} bytes, over the message bus limit (max_payload) of "
        f"{limit} bytes: send fewer items",
        details={"size_bytes": size, "max_payload_bytes": limit},
    )


class ServiceClient:
    """Calls other services' operations with identity and trace headers."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.nc = nc
        self.subjects = subjects

    async def call_raw(
        self,
        service: str,
        op: str,
        body: BaseModel | dict[str, Any] | None = None,
        *,
        caller: CallerContext | None = None,
        timeout_s: float = 2.0,
    ) -> dict[str, Any]:
        """The reply's ``data`` as a dict; raises ``RemoteError``, ``Unavailable`` or ``Timeout``."""
        return self._data(service, await self._request(service, op, body, caller, timeout_s))

    async def call_json(
        self,
        service: str,
        op: str,
        body: BaseModel | dict[str, Any] | None = None,
        *,
        caller: CallerContext | None = None,
        timeout_s: float = 2.0,
    ) -> bytes:
        """The reply's ``data`` as the JSON text the service wrote, not parsed (a large reply passed
        on as it is); raises as ``call_raw`` does."""
        raw = await self._request(service, op, body, caller, timeout_s)
        if raw.startswith(DATA_PREFIX) and raw.endswith(b"}"):  # what ``_encoded`` writes
            return raw[len(DATA_PREFIX) - 1 : -1]
        return json.dumps(self._data(service, raw)).encode()

    async def call_binary(
        self,
        service: str,
        op: str,
        body: BaseModel | dict[str, Any] | None = None,
        *,
        caller: CallerContext | None = None,
        timeout_s: float = 2.0,
    ) -> bytes:
        """The raw reply of an op that answers ``RawReply``; an error reply (JSON, starting with
        ``{``) raises ``RemoteError`` as ``call_raw`` does."""
        data = await self._request(service, op, body, caller, timeout_s)
        if data[:1] == b"{":
            self._data(service, data)
            raise RemoteError("internal", f"{service} sent JSON data where a binary reply was expected")
        return data

    async def _request(
        self,
        service: str,
        op: str,
        body: BaseModel | dict[str, Any] | None,
        caller: CallerContext | None,
        timeout_s: float,
    ) -> bytes:
        if isinstance(body, BaseModel):
            payload = body.model_dump_json().encode()
        else:
            payload = json.dumps(body or {}).encode()
        headers = inject_trace((caller or CallerContext()).headers())
        headers[HEADER_TIMEOUT] = f"{timeout_s:.3f}"
        subject = self.subjects.request(service, op)
        size, limit = message_size(payload, headers), self.nc.max_payload
        if size > limit:
            raise _request_too_large(service, op, size, limit)
        try:
            message = await self._send(subject, payload, headers, timeout_s)
        except nats.errors.NoRespondersError as error:
            raise Unavailable(f"{service} is not answering (no responders)") from error
        except (nats.errors.TimeoutError, TimeoutError) as error:
            raise Timeout(f"{service} did not answer within {timeout_s}s") from error
        except nats.errors.ConnectionClosedError as error:
            raise Unavailable("NATS connection closed") from error
        except nats.errors.MaxPayloadError as error:
            raise _request_too_large(service, op, size, self.nc.max_payload) from error
        return message.data

    async def _send(self, subject: str, payload: bytes, headers: dict[str, str], timeout_s: float) -> Msg:
        """The request, asked again after a short pause while nobody answers its subject and time
        remains: a responder re-subscribes after a reconnect, and a replaced instance subscribes a
        moment after the old one left, and neither should fail a user's request."""
        deadline = time.monotonic() + timeout_s
        for pause in (*NO_RESPONDER_PAUSES_S, None):
            try:
                left = max(deadline - time.monotonic(), 0.001)
                return await self.nc.request(subject, payload, timeout=left, headers=headers)
            except nats.errors.NoRespondersError:
                if pause is None or time.monotonic() + pause >= deadline:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # the last pass returns or raises

    @staticmethod
    def _data(service: str, raw: bytes) -> dict[str, Any]:
        try:
            reply = json.loads(raw)
        except ValueError as error:
            raise RemoteError("internal", f"{service} sent a reply that is not JSON") from error
        if "error" in reply:
            err = reply["error"]
            raise RemoteError(
                str(err.get("code", "internal")), str(err.get("message", "")), err.get("details")
            )
        data = reply.get("data")
        if not isinstance(data, dict):
            raise RemoteError("internal", f"{service} sent a reply without data")
        return data

    async def call(
        self,
        service: str,
        op: str,
        body: BaseModel | dict[str, Any] | None,
        reply_model: type[ReplyT],
        *,
        caller: CallerContext | None = None,
        timeout_s: float = 2.0,
    ) -> ReplyT:
        """Like ``call_raw`` but validated into ``reply_model``: a reply as ``serve`` writes it
        (``{"data":{…}}``) is validated from its JSON text in one pass (pydantic-core), without a
        Python dict in between; anything else (an error, a reply that does not fit) takes the
        ``call_raw`` path and raises as it does."""
        raw = await self._request(service, op, body, caller, timeout_s)
        if raw.startswith(DATA_PREFIX) and raw.endswith(b"}"):
            try:
                return reply_model.model_validate_json(raw[len(DATA_PREFIX) - 1 : -1])
            except ValidationError:
                pass  # judged below exactly as before: the same error for the same reply
        return reply_model.model_validate(self._data(service, raw))
