"""What the route modules share: forwarding with public field names, cursors, NUL checks, times.

``forward_named`` is ``proxy.forward`` with the service's validation errors renamed to the public
inputs. The services' own cursors are wrapped in the gateway's signed cursors (tampered or from
another list → 422 ``query.cursor``). ``from``/``to`` take an ISO 8601 time (an offset wins, none
means UTC) or integer nanoseconds since the epoch and become ``from_ns``/``to_ns``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi import Query
from pydantic import BaseModel

from tradeloom.gateway_auth import proxy
from tradeloom.gateway_auth.auth import CallContext, gateway_of
from tradeloom.gateway_auth.domain.cursors import MAX_CURSOR_CHARS, InvalidCursor
from tradeloom.gateway_auth.errors import field_error
from tradeloom.shared.errors import ValidationFailed
from tradeloom.shared.rpc import RemoteError

ReplyT = TypeVar("ReplyT", bound=BaseModel)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# the services' request fields → the query parameters the public routes call them
QUERY_NAMES = {"from_ns": "query.from", "to_ns": "query.to"}

FROM = Query(
    alias="from",
    max_length=40,
    description="ISO 8601 (no offset: UTC) or nanoseconds since the epoch; inclusive",
    examples=["2024-01-01T00:00:00Z"],
)
TO = Query(alias="to", max_length=40, description="like `from`; inclusive", examples=["2024-01-02T00:00:00Z"])
CURSOR = Query(min_length=1, max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page")


async def forward_named(
    ctx: CallContext,
    service: str,
    op: str,
    body: BaseModel,
    reply_model: type[ReplyT],
    *,
    names: Mapping[str, str] | None = None,
    prefix: str = "query.",
    timeout_s: float | None = None,
) -> ReplyT:
    """``proxy.forward``, with the service's validation errors renamed to the public inputs: a field
    the service calls ``from_ns`` is the query parameter ``from`` here (``names``), the rest get
    ``prefix`` (``query.``, ``body.``, ``path.``). Other details (e.g. a CSV's bad rows) are kept."""
    with renamed_errors(names, prefix):
        return await proxy.forward(ctx, service, op, body, reply_model, timeout_s=timeout_s)
    raise AssertionError("unreachable")  # pragma: no cover  (mypy: the context manager may swallow)


async def forward_named_json(
    ctx: CallContext,
    service: str,
    op: str,
    body: BaseModel,
    reply_model: type[BaseModel],
    *,
    names: Mapping[str, str] | None = None,
    prefix: str = "query.",
    timeout_s: float | None = None,
) -> bytes:
    """``forward_named`` with ``proxy.forward_json``: the validated reply's own JSON bytes."""
    with renamed_errors(names, prefix):
        return await proxy.forward_json(ctx, service, op, body, reply_model, timeout_s=timeout_s)
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def renamed_errors(names: Mapping[str, str] | None, prefix: str) -> Iterator[None]:
    """A service's ``validation_error`` raised again with its fields' public names."""
    try:
        yield
    except RemoteError as error:
        if error.code != "validation_error":
            raise
        renamed = [
            {**item, "field": public_name(str(item.get("field", "")), names or {}, prefix)}
            for item in error.details.get("fields", [])
            if isinstance(item, dict)
        ]
        listed = ", ".join(f"{item['field']}: {item.get('message', '')}" for item in renamed[:5])
        raise ValidationFailed(
            listed or error.message, code=error.code, details={**error.details, "fields": renamed}
        ) from None


def public_name(field: str, names: Mapping[str, str], prefix: str) -> str:
    if field in names:
        return names[field]
    head = field.split(".", 1)[0]
    if head in names:  # e.g. a nested field of a renamed input
        return names[head] + field[len(head) :]
    return f"{prefix}{field}" if field and field != "body" else prefix.rstrip(".")


def ns_time(value: str | None, field: str) -> int | None:
    """An ISO 8601 time or integer nanoseconds as nanoseconds since the epoch (UTC); 422 naming
    ``field`` otherwise."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise field_error(field, "is not an ISO 8601 time or integer nanoseconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    if micros < 0:
        raise field_error(field, "is before 1970-01-01T00:00:00Z")
    return int(micros) * 1000


def time_range(from_: str | None, to: str | None) -> tuple[int | None, int | None]:
    from_ns, to_ns = ns_time(from_, "query.from"), ns_time(to, "query.to")
    if from_ns is not None and to_ns is not None and from_ns > to_ns:
        raise field_error("query.from", "must not be after `to`")
    return from_ns, to_ns


def unwrap_cursor(ctx: CallContext, kind: str, cursor: str | None) -> str | None:
    """The service's cursor inside the gateway's signed one (bound to ``kind``: one list)."""
    if cursor is None:
        return None
    try:
        position = gateway_of(ctx.request).cursors.decode(kind, cursor)
    except InvalidCursor as error:
        raise field_error("query.cursor", str(error)) from error
    if not isinstance(position, str):
        raise field_error("query.cursor", "malformed cursor")
    return position


def wrap_cursor(ctx: CallContext, kind: str, service_cursor: str | None) -> str | None:
    return gateway_of(ctx.request).cursors.encode(kind, service_cursor) if service_cursor else None


def with_cursor(reply: ReplyT, cursor: str | None) -> ReplyT:
    return reply.model_copy(update={"next_cursor": cursor})


def no_nul(value: object, field: str) -> None:
    """Postgres text cannot hold NUL: refuse it here (422 naming the field), not as a 500 there."""
    if isinstance(value, str) and "\x00" in value:
        raise field_error(field, "must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            no_nul(str(key), field)
            no_nul(item, f"{field}.{key}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            no_nul(item, f"{field}.{index}")


def time_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """``prepare`` of the routes with ``from``/``to``: them as ``from_ns``/``to_ns``."""
    rest = {name: value for name, value in inputs.items() if name not in ("from_", "to")}
    from_ns, to_ns = time_range(inputs.get("from_"), inputs.get("to"))
    return {**rest, "from_ns": from_ns, "to_ns": to_ns}
