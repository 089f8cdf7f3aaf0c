"""``Idempotency-Key`` on state-changing POSTs: a retry with the same key and body gets the original
response; the same key with another body is a 422; a retry while the first still runs is a 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tradeloom.gateway_auth.auth import CallContext, gateway_of
from tradeloom.gateway_auth.errors import field_error
from tradeloom.shared.errors import Conflict

KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


async def idempotency_key(  # async: FastAPI runs a plain def dependency in a thread per request
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="any unique string (e.g. a UUID); retries with it return the original response",
    ),
) -> str | None:
    return idempotency_key


def fingerprint(method: str, path: str, body: BaseModel | None) -> bytes:
    canonical = json.dumps(
        {"m": method, "p": path, "b": jsonable_encoder(body) if body is not None else None}, sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).digest()


async def run_idempotent(
    ctx: CallContext,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run ``run`` once per (user, key); store and replay its successful response."""
    if key is None:
        status, payload = await run()
        return JSONResponse(jsonable_encoder(payload), status_code=status)
    gw = gateway_of(ctx.request)
    request = ctx.request
    fp = fingerprint(request.method, request.url.path, body)
    earlier = await gw.idempotency.reserve(ctx.user_id, key, request.method, request.url.path, fp)
    if earlier is not None:
        if earlier.fingerprint != fp:
            raise field_error(
                "header.Idempotency-Key",
                "was already used with a different request body",
                code="idempotency_key_reused",
            )
        if earlier.status_code is None:
            raise Conflict(
                "a request with this Idempotency-Key is still running", code="idempotency_in_progress"
            )
        return JSONResponse(
            earlier.response, status_code=earlier.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        status, payload = await run()
    except BaseException:
        await gw.idempotency.release(ctx.user_id, key)
        raise
    encoded = jsonable_encoder(payload)
    await gw.idempotency.complete(ctx.user_id, key, status, encoded)
    return JSONResponse(encoded, status_code=status)
