"""Per-user budgets of costly work: code execution (``code``) and backtest submission (``backtests``).

A route names its budget with ``require(scope, bucket=…)``; the token is taken only when
``proxy.forward`` sends the request on, i.e. after FastAPI and the handler validated it (the
dependency itself runs before body validation and would charge for a request answered 422), and
inside the idempotent run (a replay is not charged again). When the service then refuses the
request as invalid before running anything (``REFUSED_UNRUN``), the token is given back. A syntax
error is not: the sandbox found it in a sandboxed process. A route with a bucket must forward.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tradeloom.gateway_auth.auth import CallContext, gateway_of, take_tokens
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.schemas import RateLimitOut, SandboxLimits
from tradeloom.shared.contracts.sandbox import LimitsReply
from tradeloom.shared.errors import ServiceError

REFUSED_UNRUN = frozenset({"validation_error", "code_too_large", "not_found"})
WHAT = {ratelimit.CODE: "code executions", ratelimit.BACKTESTS: "backtest submissions"}


@asynccontextmanager
async def charged(ctx: CallContext) -> AsyncIterator[None]:
    """Charge the route's budget (``require(…, bucket=…)``) for the forwarded call inside the block:
    once per request, given back if the service refuses the request as invalid before running it."""
    bucket = ctx.budget
    if bucket is None or bucket in ctx.charged:
        yield
        return
    gw = gateway_of(ctx.request)
    await take_tokens(gw, [(bucket, ctx.user_id)], WHAT.get(bucket, "requests"))
    ctx.charged.add(bucket)
    try:
        yield
    except ServiceError as error:
        if error.code in REFUSED_UNRUN:
            gw.limiter.give_back([(gw.buckets[bucket], ctx.user_id)])
            ctx.charged.discard(bucket)
        raise


def rate_limit_of(gw: Gateway, bucket: str) -> RateLimitOut:
    spec = gw.buckets[bucket]
    return RateLimitOut(bucket=bucket, burst=math.floor(spec.capacity), per_minute=round(spec.per_s * 60, 6))


def sandbox_limits(gw: Gateway, reply: LimitsReply) -> SandboxLimits:
    """The sandbox's limits with the gateway's own code bucket: ``executions_per_minute`` is the
    lower of the sandbox's quota and the bucket's sustained rate (whole executions), and
    ``rate_limit`` gives the bucket itself (its burst is what a client may send at once)."""
    rate = rate_limit_of(gw, ratelimit.CODE)
    per_minute = min(reply.quotas.executions_per_minute, math.floor(rate.per_minute))
    quotas = reply.quotas.model_copy(update={"executions_per_minute": per_minute})
    return SandboxLimits(**{**reply.model_dump(), "quotas": quotas.model_dump()}, rate_limit=rate)
