"""The one way a public route reaches another service: ``svc.<service>.<op>`` with the caller's identity.

Headers ``tl-user-id``, ``tl-roles``, ``tl-request-id`` and ``traceparent`` ride on the NATS
request (ServiceClient). A service that does not answer within the deadline becomes 503
(no responders) or 504 (deadline passed), both with ``retryable: true``, never a hung request.
State-changing calls are written to the audit log with their outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tradeloom.gateway_auth.auth import CallContext, gateway_of
from tradeloom.gateway_auth.budgets import charged
from tradeloom.gateway_auth.store.audit import AuditEntry
from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import RemoteError, ServiceClient

log = logging.getLogger(__name__)
ReplyT = TypeVar("ReplyT", bound=BaseModel)
T = TypeVar("T")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def forward(
    ctx: CallContext,
    service: str,
    op: str,
    body: BaseModel | dict[str, Any] | None,
    reply_model: type[ReplyT],
    *,
    timeout_s: float | None = None,
) -> ReplyT:
    """Call ``svc.<service>.<op>`` as the caller; the reply validated into ``reply_model``."""

    async def call(client: ServiceClient, caller: CallerContext, deadline: float) -> ReplyT:
        return await client.call(service, op, body, reply_model, caller=caller, timeout_s=deadline)

    return await _forwarded(ctx, service, op, call, timeout_s)


async def forward_json(
    ctx: CallContext,
    service: str,
    op: str,
    body: BaseModel | dict[str, Any] | None,
    reply_model: type[BaseModel],
    *,
    timeout_s: float | None = None,
) -> bytes:
    """``forward`` for a large reply: validated against ``reply_model`` from its JSON (in
    pydantic-core) and returned as the service's own bytes, not rebuilt and serialised again."""

    async def call(client: ServiceClient, caller: CallerContext, deadline: float) -> bytes:
        data = await client.call_json(service, op, body, caller=caller, timeout_s=deadline)
        try:
            reply_model.model_validate_json(data)
        except ValidationError as error:  # never pass on what does not fit the contract
            log.error("svc.%s.%s replied outside its contract: %s", service, op, error)
            raise RemoteError("internal", f"{service} sent a reply that does not fit its contract") from None
        return data

    return await _forwarded(ctx, service, op, call, timeout_s)


async def _forwarded(
    ctx: CallContext,
    service: str,
    op: str,
    call: Callable[[ServiceClient, CallerContext, float], Awaitable[T]],
    timeout_s: float | None,
) -> T:
    gw = gateway_of(ctx.request)
    caller = CallerContext(user_id=ctx.user_id, roles=ctx.principal.roles, request_id=request_id_var.get())
    deadline = timeout_s or gw.settings.proxy_timeout_s
    state_changing = ctx.request.method not in READ_METHODS
    if ctx.budget is None and not state_changing:  # a plain read: nothing to charge or audit
        return await call(gw.client, caller, deadline)
    async with charged(ctx):  # the route's budget, if it has one: the request is valid by now
        try:
            reply = await call(gw.client, caller, deadline)
        except ServiceError as error:
            if state_changing:
                await _audit(ctx, service, op, error.code)
            raise
    if state_changing:
        await _audit(ctx, service, op, "success")
    return reply


async def _audit(ctx: CallContext, service: str, op: str, outcome: str) -> None:
    entry = AuditEntry(
        action=f"{service}.{op}",
        outcome=outcome,
        user_id=ctx.user_id,
        actor_id=ctx.user_id,
        ip=ctx.ip,
        request_id=request_id_var.get(),
        details={"method": ctx.request.method, "path": ctx.request.url.path, "via": ctx.principal.via},
    )
    await gateway_of(ctx.request).audit.record(entry)
