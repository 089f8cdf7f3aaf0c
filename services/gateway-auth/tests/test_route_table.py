"""The route table's builder (routes/builder.py): a ``Forward`` line becomes a working route, and
what does not fit the op is a 422 naming the public input, never a 500."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fastapi import APIRouter, Path, Query
from gateway_testkit import Api
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.subjects import Subjects


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    n: int = Field(le=5)  # stricter than the public query parameter below


class Probed(BaseModel):
    ok: bool


def probe(**overrides: object) -> Forward:
    line: dict[str, object] = {
        "name": "probe",
        "summary": "a probe",
        "errors": problem_responses(422, 503),
        "path_params": (Param("name", str, Path(max_length=20)),),
        "query": (Param("n", int, Query(ge=0, le=10), 0),),
    }
    return Forward(
        "GET", "/{name}", Scope.READ, "no-such-service", "probe", Probe, Probed,
        **(line | overrides),  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_line_that_cannot_make_its_request_is_refused_when_the_app_is_built() -> None:
    with pytest.raises(ValueError, match="reserved"):
        add_forwarded(APIRouter(), [probe(query=(Param("key", str, Query()),))])
    with pytest.raises(ValueError, match=r"has no \['m'\]"):
        add_forwarded(APIRouter(), [probe(query=(Param("m", int, Query()),))])
    with pytest.raises(ValueError, match=r"nothing fills \['name'\]"):
        add_forwarded(APIRouter(), [probe(path_params=())])


async def test_a_forwarded_route_checks_its_inputs_before_the_service(api: Api) -> None:
    router = APIRouter(prefix="/v1/probe")
    add_forwarded(router, [probe()])
    api.app.include_router(router)
    _, session = await api.user()

    def fields(response: object) -> list[str]:
        return [item["field"] for item in response.json()["details"]["fields"]]  # type: ignore[attr-defined]

    too_big = await api.http.get("/v1/probe/abc", params={"n": 7}, headers=session)
    assert too_big.status_code == 422 and fields(too_big) == ["query.n"], too_big.text
    nul = await api.http.get("/v1/probe/a%00b", headers=session)
    assert nul.status_code == 422 and fields(nul) == ["path.name"], nul.text
    forwarded = await api.http.get("/v1/probe/abc", params={"n": 3}, headers=session)
    assert forwarded.status_code == 503 and forwarded.json()["retryable"] is True, forwarded.text


async def test_a_raw_reply_line_sends_the_services_own_bytes_once_valid(
    api: Api, nc: NatsClient, nats_prefix: str
) -> None:
    """``raw_reply``: the reply is checked against the line's model and sent as the service wrote it
    (the runtime's ``{"data":{…}}`` unwrapped without parsing; other spellings parsed); an invalid
    reply is never passed on; the service's validation errors still name the public inputs."""
    with pytest.raises(ValueError, match="raw_reply"):
        add_forwarded(APIRouter(), [probe(raw_reply=True, idempotent=True)])
    replies = {
        "fast": b'{"data":{"ok":true,"extra_spacing_kept" :1}}',
        "spaced": b'{"data": {"ok": false}}',
        "bad": b'{"data":{"ok":"maybe?"}}',
        "refused": json.dumps(
            {"error": {"code": "validation_error", "message": "bad", "details": {"fields": [{"field": "n"}]}}}
        ).encode(),
    }

    async def respond(msg: Msg) -> None:
        await msg.respond(replies[json.loads(msg.data)["name"]])

    sub = await nc.subscribe(Subjects(nats_prefix).request("probe-svc", "probe"), cb=respond)
    router = APIRouter(prefix="/v1/raw")
    add_forwarded(router, [replace(probe(raw_reply=True), service="probe-svc", reply=LooseProbed)])
    api.app.include_router(router)
    _, session = await api.user()
    try:
        fast = await api.http.get("/v1/raw/fast", headers=session)
        spaced = await api.http.get("/v1/raw/spaced", headers=session)
        bad = await api.http.get("/v1/raw/bad", headers=session)
        refused = await api.http.get("/v1/raw/refused", headers=session)
    finally:
        await sub.unsubscribe()
    assert fast.status_code == 200 and fast.headers["content-type"] == "application/json", fast.text
    assert fast.content == b'{"ok":true,"extra_spacing_kept" :1}'
    assert (spaced.status_code, spaced.json()) == (200, {"ok": False})
    assert bad.status_code == 500 and "maybe" not in bad.text
    assert refused.status_code == 422 and refused.json()["details"]["fields"][0]["field"] == "query.n"


class LooseProbed(BaseModel):
    ok: bool
