"""The route table's builder (routes/builder.py): a ``Forward`` line becomes a working route, and
what does not fit the op is a 422 naming the public input, never a 500."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Path, Query
from gateway_testkit import Api
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.table import Forward, Param


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


def test_a_parameter_named_like_the_endpoints_own_arguments_is_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        add_forwarded(APIRouter(), [probe(query=(Param("key", str, Query()),))])


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
