"""Route dispatch in a few candidates instead of a walk over every route of the API.

FastAPI (0.16x) keeps each ``include_router`` as a nested router and finds a request's route by
trying every route of every included router in order, twice for the router that holds it (once
to find the router, once inside it), with several dict copies per try. With ~210 routes that walk
cost ~1.5 ms per request for a route near the end of the table (``/v1/analytics/*``, ``/v1/risk/*``)
against 0.16 ms for the first one, the largest share of the gateway's CPU under load, and its
garbage (a dict per try) made the collector run ten times as often (see bench/README.md).

Two changes, behaviour kept:
- ``include_flat`` puts a router's routes on the app's own router (as ``@app.get`` routes are)
  instead of nesting it: same route objects, paths, tags, OpenAPI; a match is one regex per route.
- ``RouteIndex`` narrows the walk. A route can only match a path that starts with its template's
  literal prefix (``/v1/risk/accounts/`` for ``/v1/risk/accounts/{account_id}``), so the routes a
  path can match are those whose prefix it starts with: the same routes, in the same order, as the
  full walk would try. The router's own dispatch then runs over that subset (a shallow copy of the
  router with fewer ``routes``), so matching, 405 for a wrong method, telemetry and handling are
  FastAPI's own. A path nothing matches falls back to the full router (slash redirects, 404).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Mount
from starlette.types import Receive, Scope, Send

MAX_CACHED_PREFIXES = 4096


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes to ``app`` directly (like routes declared with ``@app.get``).

    Only for a router included without options (prefix, tags, dependencies are the router's own,
    already in each of its routes): exactly the gateway's routers."""
    app.router.routes.extend(router.routes)


def literal_prefix(route: BaseRoute) -> str:
    """The start every path this route matches has: its template up to the first parameter."""
    path = getattr(route, "path", None)
    if not isinstance(path, str) or (isinstance(route, Mount) and not path):
        return ""  # a host route, a root mount or an unknown kind: tried for every path
    return path.split("{", 1)[0]


class RouteIndex:
    """The router's dispatch, over the routes a path can match (see the module docstring)."""

    def __init__(self, router: APIRouter, prepare: Callable[[BaseRoute], object] | None = None) -> None:
        self.router = router
        self.prepare = prepare  # called for every route when the index is (re)built
        self._built_for: list[BaseRoute] | None = None
        self._prefixes: list[tuple[str, int]] = []
        self._longest = 0
        self._by_start: dict[str, APIRouter] = {}
        self._views: dict[tuple[int, ...], APIRouter] = {}

    def _build(self) -> None:
        routes = list(self.router.routes)
        if self.prepare is not None:
            for route in routes:
                self.prepare(route)
        self._prefixes = [(literal_prefix(route), i) for i, route in enumerate(routes)]
        self._longest = max((len(prefix) for prefix, _ in self._prefixes), default=0)
        self._by_start = {}
        self._views = {}
        self._built_for = routes

    def _view(self, chosen: tuple[int, ...]) -> APIRouter:
        view = self._views.get(chosen)
        if view is None:
            view = copy.copy(self.router)
            assert self._built_for is not None
            view.routes = [self._built_for[i] for i in chosen]
            view.redirect_slashes = False  # no match in the subset: the full router decides
            view._low_priority_routes = []
            view.default = self.router.app
            self._views[chosen] = view
        return view

    def candidates(self, path: str) -> APIRouter:
        """A router holding only the routes ``path`` can match (cached by the path's start)."""
        if self._built_for is None or len(self._built_for) != len(self.router.routes):
            self._build()  # routes were added after the first request (tests, benches)
        start = path[: self._longest]
        view = self._by_start.get(start)
        if view is None:
            chosen = tuple(i for prefix, i in self._prefixes if start.startswith(prefix))
            view = self._view(chosen)
            if len(self._by_start) >= MAX_CACHED_PREFIXES:
                self._by_start.clear()  # many distinct ids in paths: recompute, stay bounded
            self._by_start[start] = view
        return view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope.get("root_path"):
            await self.router.app(scope, receive, send)
            return
        scope.setdefault("router", self.router)  # url_for sees every route, not the subset
        await self.candidates(scope["path"]).app(scope, receive, send)


def install_route_index(app: FastAPI, prepare: Callable[[BaseRoute], object] | None = None) -> RouteIndex:
    """Dispatch ``app``'s requests through a ``RouteIndex`` (built on the first request, and again
    when routes were added; ``prepare`` sees every route each time it is built)."""
    router: Any = app.router
    if router.middleware_stack != router.app:
        raise RuntimeError("the app router has its own middleware: RouteIndex would drop it")
    index = RouteIndex(app.router, prepare)
    router.middleware_stack = index
    return index
