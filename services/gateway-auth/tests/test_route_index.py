"""The route index (route_index.py) picks, for every route of the API, the route FastAPI's full
walk picks, and keeps its answers for wrong methods, unknown paths and routes added later."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.routing import BaseRoute, Match

from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.route_index import RouteIndex, install_route_index, literal_prefix
from tradeloom.gateway_auth.settings import GatewayAuthSettings


@pytest.fixture(scope="module")
def app() -> FastAPI:
    settings = GatewayAuthSettings(
        database_url="postgresql://unused/unused", nats_url="nats://unused:1", db_schema="unused",
        environment="test", jwt_secret="route-index-" + "k" * 32,
    )  # fmt: skip
    unused: Any = None
    return create_http_app(Gateway(settings, lambda: unused, lambda: unused, lambda: unused))


def first_match(routes: list[BaseRoute], path: str, method: str, kind: str) -> tuple[BaseRoute | None, Match]:
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches({"type": kind, "path": path, "method": method, "root_path": ""})
        if match == Match.FULL:
            return route, match
        if match == Match.PARTIAL and partial is None:
            partial = route
    return partial, Match.PARTIAL if partial is not None else Match.NONE


def sample_path(template: str) -> str:
    """A concrete path for a template: ``{x:path}`` gets two segments, any other parameter one."""
    return re.sub(r"\{[^}]+\}", lambda m: "a1/b2" if ":path}" in m.group(0) else "a1", template)


def test_every_route_is_found_as_the_full_walk_finds_it(app: FastAPI) -> None:
    index = RouteIndex(app.router)
    routes = list(app.router.routes)
    checked = 0
    for route in routes:
        template = getattr(route, "path", None)
        if not isinstance(template, str):
            continue
        kind = "websocket" if "WebSocket" in type(route).__name__ else "http"
        path = sample_path(template)
        for method in [*sorted(getattr(route, "methods", None) or {"GET"}), "PATCH", "TRACE"]:
            full = first_match(routes, path, method, kind)
            narrowed = first_match(index.candidates(path).routes, path, method, kind)
            assert narrowed == full, (template, method)
            checked += 1
    assert checked > 400  # ~210 routes, each with its own methods and two it does not allow
    assert len(index.candidates("/v1/analytics/summary").routes) < len(routes) / 4
    for path in ("/v1/nothing", "/v1/risk/nothing/at/all", "/", "/assets/x.js", "/v1/users/me/"):
        assert first_match(index.candidates(path).routes, path, "GET", "http") == first_match(
            routes, path, "GET", "http"
        )


def test_a_literal_prefix_is_the_template_up_to_its_first_parameter(app: FastAPI) -> None:
    by_path = {getattr(route, "path", None): route for route in app.router.routes}
    assert literal_prefix(by_path["/v1/users/me"]) == "/v1/users/me"
    assert literal_prefix(by_path["/v1/backtests/{backtest_id}"]) == "/v1/backtests/"


async def test_wrong_methods_unknown_paths_and_routes_added_after_the_first_request() -> None:
    application = FastAPI()

    @application.get("/v1/things/{thing_id}", name="thing")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    install_route_index(application)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/things/a")).json() == {"id": "a"}
        assert (await client.post("/v1/things/a")).status_code == 405
        assert (await client.get("/v1/nothing")).status_code == 404

        @application.get("/v1/later")
        async def later(request: Request) -> dict[str, str]:  # url_for sees every route
            return {"thing": str(request.url_for("thing", thing_id="b"))}

        assert (await client.get("/v1/later")).json() == {"thing": "http://test/v1/things/b"}
