"""A plain forwarded route as one line of data (``Forward``); ``routes/builder.py`` makes it a
FastAPI route.

A plain forwarded route is one HTTP route → one ``svc.<service>.<op>`` request: the path
parameters, the query parameters and the JSON body become the op's request model, the reply model
is what the client gets. Everything FastAPI puts in the OpenAPI (summary, description, status,
error responses, parameter declarations, operation id from ``name``) is in the line, so building
it gives exactly the route a hand-written function would have. How to add one:
services/gateway-auth/README.md, "How to add a route".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tradeloom.gateway_auth.domain.scopes import Scope

REQUIRED: Any = inspect.Parameter.empty
Inputs = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """A path or query parameter as FastAPI declares it: ``name: Annotated[annotation, spec] = default``.

    ``name`` is the request model's field it fills (``prepare`` may rename it); a query
    parameter's public name is the spec's alias if it has one (``from_`` is ``?from=``)."""

    name: str
    annotation: Any
    spec: FieldInfo  # fastapi.Path(...) or fastapi.Query(...)
    default: Any = REQUIRED

    @property
    def public(self) -> str:
        return self.spec.alias or self.name


@dataclass(frozen=True)
class Forward:
    """One route: ``method path`` (relative to the router's prefix) → ``svc.<service>.<op>``.

    * ``scope``/``bucket``: what the caller needs (``require(scope, bucket=bucket)``).
    * ``request``/``reply``: the op's models; ``body``: the public JSON body (the request model
      itself when the op takes the body as it is, or a model whose fields join the path's).
    * ``path_params``/``query``: the parameters, in the order the OpenAPI lists them.
    * ``page``: the standard ``limit``/``cursor`` query parameters (``pagination.page_query``).
    * ``cursor``: the list's cursor kind, formatted with the inputs (``"bt_trades:{backtest_id}"``):
      the service's cursor is wrapped in the gateway's signed one both ways.
    * ``prepare``: turns the inputs into the request's fields (e.g. ``from``/``to`` → ``from_ns``);
      ``names``: the request's fields → the public names its errors are reported under.
    * ``idempotent``: takes ``Idempotency-Key``; ``deadline``: seconds to wait for the reply,
      from the request (default: the gateway's proxy timeout).
    * ``raw_reply``: the service's reply, validated against ``reply``, is sent as the service wrote
      it (no model rebuilt, no second serialisation; for large read replies such as the option
      chain). Not with ``cursor`` or ``idempotent``, which rewrite or store the reply.
    """

    method: str
    path: str
    scope: Scope
    service: str
    op: str
    request: type[BaseModel]
    reply: type[BaseModel]
    name: str  # the operation id's stem (what the hand-written function was called)
    summary: str
    errors: Mapping[int | str, dict[str, Any]]
    description: str | None = None
    status: int = 200
    bucket: str | None = None
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    page: bool = False
    cursor: str | None = None
    idempotent: bool = False
    prepare: Callable[[Inputs], Inputs] | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    deadline: Callable[[Any], float] | None = None
    raw_reply: bool = False
