"""Every protected route's caller check is solved as one dependency at run time
(runtime_dependencies.py), while the OpenAPI document keeps the declared security schemes."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tradeloom.gateway_auth.auth import authenticate
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.runtime_dependencies import PREPARED, runtime_dependant, use_runtime_dependencies
from tradeloom.gateway_auth.settings import GatewayAuthSettings


def app() -> FastAPI:
    settings = GatewayAuthSettings(
        database_url="postgresql://unused/unused", nats_url="nats://unused:1", db_schema="unused",
        environment="test", jwt_secret="runtime-deps-" + "k" * 32,
    )  # fmt: skip
    unused: Any = None
    return create_http_app(Gateway(settings, lambda: unused, lambda: unused, lambda: unused))


def calls(dependant: Dependant) -> list[Any]:
    return [dependant.call] + [call for sub in dependant.dependencies for call in calls(sub)]


def test_protected_routes_solve_the_caller_in_one_dependency_and_document_the_schemes() -> None:
    api = app()
    documented = api.openapi()
    api.openapi_schema = None
    routes = [route for route in api.router.routes if isinstance(route, APIRoute)]
    protected = [route for route in routes if authenticate in calls(route.dependant)]
    assert len(protected) > 150
    for route in protected:
        runtime = runtime_dependant(route.dependant)
        assert authenticate not in calls(runtime), route.path
        assert len(calls(runtime)) <= len(calls(route.dependant)) - 4, route.path  # the schemes too
        use_runtime_dependencies(route)  # True unless another app of this process did it already:
        assert getattr(route, PREPARED)  # the routers' route objects are module-level, shared
        assert not use_runtime_dependencies(route)  # once
        assert authenticate in calls(route.dependant)  # the declared tree is kept
    public = [route for route in routes if route not in protected]
    assert all(runtime_dependant(route.dependant) is route.dependant for route in public)
    assert api.openapi() == documented
    security = documented["paths"]["/v1/users/me"]["get"]["security"]
    assert security == [{"HTTPBearer": []}, {"APIKeyHeader": []}, {"OAuth2PasswordBearer": []}]


def test_no_route_runs_a_plain_function_in_a_thread_per_request() -> None:
    """FastAPI runs a ``def`` endpoint or dependency in its thread pool on every request (a thread
    hand-off and the GIL back and forth); every endpoint and dependency of the gateway's routes is
    ``async def`` (or a security scheme, whose ``__call__`` is async)."""
    routes = [route for route in app().router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 150
    for route in routes:
        for call in calls(route.dependant):
            target = call if inspect.isfunction(call) else type(call).__call__
            assert inspect.iscoroutinefunction(target), f"{route.path}: {call!r} is not async"
