"""The proxy helper against a real tiny service (``tradeloom.shared.rpc.serve``) over real NATS."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from gateway_testkit import Api
from nats.aio.client import Client as NatsClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from tradeloom.gateway_auth.auth import CallContext, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.proxy import forward
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import NotFound
from tradeloom.shared.rpc import Operation, serve
from tradeloom.shared.subjects import Subjects

READ, TRADE = require(Scope.READ), require(Scope.TRADE)


class EchoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = ""


class EchoOut(BaseModel):
    text: str
    user_id: str | None
    roles: list[str]
    request_id: str | None


async def start_tiny_service(nc: NatsClient, prefix: str) -> object:
    async def echo(caller: CallerContext, body: EchoIn) -> EchoOut:
        return EchoOut(
            text=body.text, user_id=caller.user_id, roles=sorted(caller.roles), request_id=caller.request_id
        )

    async def slow(_: CallerContext, body: EchoIn) -> EchoOut:
        await asyncio.sleep(2)
        return EchoOut(text=body.text, user_id=None, roles=[], request_id=None)

    async def missing(_: CallerContext, __: EchoIn) -> EchoOut:
        raise NotFound("no such thing")

    return await serve(
        nc, service="tiny", version="1.0.0", subjects=Subjects(prefix),
        operations=[Operation("echo", EchoIn, EchoOut, echo), Operation("slow", EchoIn, EchoOut, slow),
                    Operation("missing", EchoIn, EchoOut, missing)],
    )  # fmt: skip


def add_routes(api: Api) -> None:
    @api.app.get("/v1/tiny/echo", response_model=EchoOut)
    async def echo_read(ctx: Annotated[CallContext, Depends(READ)], text: str = "") -> EchoOut:
        return await forward(ctx, "tiny", "echo", EchoIn(text=text), EchoOut)

    @api.app.post("/v1/tiny/echo", response_model=EchoOut)
    async def echo_write(body: EchoIn, ctx: Annotated[CallContext, Depends(TRADE)]) -> EchoOut:
        return await forward(ctx, "tiny", "echo", body, EchoOut)

    @api.app.get("/v1/tiny/{op}", response_model=EchoOut)
    async def other(op: str, request: Request, ctx: Annotated[CallContext, Depends(READ)]) -> EchoOut:
        return await forward(ctx, "tiny" if op != "absent" else "absent", op, None, EchoOut, timeout_s=0.3)


async def test_forward_carries_identity_and_maps_failures(api: Api, nc: NatsClient, nats_prefix: str) -> None:
    service = await start_tiny_service(nc, nats_prefix)
    add_routes(api)
    user, session = await api.user()
    reply = await api.http.get(
        "/v1/tiny/echo", params={"text": "hi"}, headers=session | {"X-Request-ID": "req-42"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"text": "hi", "user_id": user["id"], "roles": ["user"], "request_id": "req-42"}

    slow = await api.http.get("/v1/tiny/slow", headers=session)
    assert slow.status_code == 504 and slow.json()["code"] == "timeout" and slow.json()["retryable"] is True
    absent = await api.http.get("/v1/tiny/absent", headers=session)
    assert absent.status_code == 503 and absent.json()["code"] == "unavailable" and absent.json()["retryable"]
    missing = await api.http.get("/v1/tiny/missing", headers=session)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"

    # state-changing calls are audited with who, what, request id and outcome
    posted = await api.http.post(
        "/v1/tiny/echo", json={"text": "buy"}, headers=session | {"X-Request-ID": "req-43"}
    )
    assert posted.status_code == 200
    async with api.engine.connect() as conn:
        rows = (await conn.execute(text(
            f'SELECT action, outcome, request_id, user_id::text FROM "{api.outbox_schema}".audit_log '
            "WHERE action LIKE 'tiny.%'"))).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("tiny.echo", "success", "req-43", user["id"])]
    await service.stop()  # type: ignore[attr-defined]


async def test_scopes_are_enforced_on_proxied_routes(api: Api, nc: NatsClient, nats_prefix: str) -> None:
    service = await start_tiny_service(nc, nats_prefix)
    add_routes(api)
    _, session = await api.user()
    keys = {}
    for scopes in (["read"], ["trade"], ["read", "trade"]):
        made = await api.http.post("/v1/api-keys", headers=session, json={"name": "k", "scopes": scopes})
        keys["+".join(scopes)] = {"X-API-Key": made.json()["key"]}
    assert (await api.http.get("/v1/tiny/echo", headers=keys["read"])).status_code == 200
    denied = await api.http.post("/v1/tiny/echo", json={"text": "x"}, headers=keys["read"])
    assert denied.status_code == 403 and denied.json()["details"]["scope"] == "trade"
    assert (await api.http.get("/v1/tiny/echo", headers=keys["trade"])).status_code == 403
    assert (
        await api.http.post("/v1/tiny/echo", json={"text": "x"}, headers=keys["trade"])
    ).status_code == 200
    assert (
        await api.http.post("/v1/tiny/echo", json={"text": "x"}, headers=keys["read+trade"])
    ).status_code == 200
    await service.stop()  # type: ignore[attr-defined]
