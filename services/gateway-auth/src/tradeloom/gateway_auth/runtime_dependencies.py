"""Each route's dependencies as FastAPI solves them per request: the caller's check as one dependency.

A protected route declares ``Depends(require(scope))``, which depends on ``authenticate``, which
depends on the three security schemes (bearer, ``X-API-Key``, OAuth2): that tree is what the
OpenAPI document shows (the schemes and each route's ``security``). Solving it costs FastAPI 0.16x
five recursive ``solve_dependencies`` calls per request (cache keys, scope checks and callable
classification recomputed every time): ~60 us of CPU, more than the authentication and the
rate-limit leases together, and ~0.09 ms of a proxied read's ~0.25 ms (bench/README.md).

``use_runtime_dependencies`` rebuilds a route's request handler from a copy of its dependency tree
in which every dependency carrying a ``solved_at_once`` equivalent (``auth.require``'s: the same
schemes and checks, called directly) is that one dependency taking only the request. The route's
declared ``dependant`` stays as it was, so the OpenAPI document is unchanged, and the same
functions run in the same order: 401/403/429 and their bodies are the same. The routers (and so
their route objects) are module-level, shared by every app a process builds: a route is rebuilt once.
``app.dependency_overrides`` keyed by ``authenticate``, a scheme or a ``require`` dependency do not
reach the rebuilt tree (none are used: the gateway's tests authenticate with real credentials).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute, request_response
from starlette.routing import BaseRoute

from tradeloom.gateway_auth.auth import SOLVED_AT_ONCE

PREPARED = "_tl_runtime_dependencies"  # set on a route whose handler was rebuilt


def runtime_dependant(dependant: Dependant) -> Dependant:
    """``dependant`` with each sub-dependency that has a ``solved_at_once`` equivalent replaced by
    it (the same name, cache use and scope); the very object when nothing changes."""
    changed = False
    subs: list[Dependant] = []
    for sub in dependant.dependencies:
        at_once: Any = getattr(sub.call, SOLVED_AT_ONCE, None)
        if at_once is not None:
            new = get_dependant(
                path=sub.path or "", call=at_once, name=sub.name, use_cache=sub.use_cache, scope=sub.scope
            )
        else:
            new = runtime_dependant(sub)
        changed = changed or new is not sub
        subs.append(new)
    return replace(dependant, dependencies=subs) if changed else dependant


def use_runtime_dependencies(route: BaseRoute) -> bool:
    """Give an API ``route`` a request handler built from its ``runtime_dependant``; True if it
    changed (other routes, and routes done already, are left as they are)."""
    if not isinstance(route, APIRoute) or getattr(route, PREPARED, False) or route.max_body_size is not None:
        return False  # done already, or a route whose handler FastAPI wraps in its own body limit
    setattr(route, PREPARED, True)
    declared = route.dependant
    runtime = runtime_dependant(declared)
    if runtime is declared:
        return False
    route.dependant = runtime  # get_route_handler reads it; the OpenAPI keeps the declared tree
    try:
        route.app = request_response(route.get_route_handler())
    finally:
        route.dependant = declared
    return True


def use_runtime_dependencies_everywhere(app: FastAPI) -> int:
    """``use_runtime_dependencies`` for every API route of ``app`` (idempotent); how many changed."""
    return sum(use_runtime_dependencies(route) for route in app.router.routes)
