"""Turns ``Forward`` lines (routes/table.py) into FastAPI routes on a router.

Each line becomes an endpoint whose signature is what a hand-written one would declare (path
parameters, the caller dependency, ``page_query``, ``Idempotency-Key``, the body, the query
parameters), so FastAPI validates and documents it exactly as before. On a request the endpoint:
refuses NUL characters in strings (Postgres text cannot hold them), unwraps the signed cursor,
builds the op's request (422 naming the public input if it does not fit), forwards it with the
service's validation errors renamed to the public inputs, and wraps the reply's cursor.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ValidationError

from tradeloom.gateway_auth.auth import CallContext, require
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.idempotency import idempotency_key, run_idempotent
from tradeloom.gateway_auth.pagination import PageQuery, page_query
from tradeloom.gateway_auth.routes.forwarding import (
    forward_named,
    forward_named_json,
    no_nul,
    public_name,
    unwrap_cursor,
    with_cursor,
    wrap_cursor,
)
from tradeloom.gateway_auth.routes.table import Forward, Inputs

RESERVED = frozenset({"ctx", "page", "key", "body"})  # the endpoint's own arguments
KW = inspect.Parameter.KEYWORD_ONLY


def add_forwarded(router: APIRouter, routes: Iterable[Forward]) -> None:
    """Add every line of ``routes`` to ``router``, in order (order decides which path matches)."""
    for route in routes:
        check_line(route)
        router.add_api_route(
            route.path,
            endpoint(route),
            methods=[route.method],
            name=route.name,
            response_model=route.reply,
            status_code=route.status,
            summary=route.summary,
            description=route.description or "",
            responses=dict(route.errors),
        )


def check_line(route: Forward) -> None:
    """Refuse, when the app is built, a line whose inputs cannot make its request: a reserved
    parameter name, an input the request has no field for, a required field no input fills."""
    where = f"{route.method} {route.path}"
    inputs = {param.name for param in route.path_params + route.query}
    clash = RESERVED & inputs
    if clash:
        raise ValueError(f"{where}: parameter names {sorted(clash)} are reserved")
    if route.raw_reply and (route.cursor or route.idempotent):
        raise ValueError(f"{where}: raw_reply cannot go with a cursor or Idempotency-Key")
    if route.prepare is not None or (route.body is route.request and not inputs):
        return  # prepare decides the fields; a body forwarded as it is is the request
    inputs |= set(route.body.model_fields) if route.body is not None else set()
    inputs |= {"limit", "cursor"} if route.page else set()
    fields = route.request.model_fields
    unknown = inputs - set(fields)
    missing = {name for name, info in fields.items() if info.is_required()} - inputs
    if unknown or missing:
        raise ValueError(
            f"{where}: {route.request.__name__} has no {sorted(unknown)}; nothing fills {sorted(missing)}"
        )


def endpoint(route: Forward) -> Any:
    """An endpoint function for ``route`` with the signature FastAPI reads its inputs from."""
    names = {
        **{param.name: f"path.{param.public}" for param in route.path_params},
        **{param.name: f"query.{param.public}" for param in route.query},
        **route.names,
    }

    async def forwarded(*, ctx: CallContext, **inputs: Any) -> Any:
        page: PageQuery | None = inputs.pop("page", None)
        key: str | None = inputs.pop("key", None)
        body: BaseModel | None = inputs.pop("body", None)
        check_nul(inputs, body, names)
        if page is not None:
            inputs.update(limit=page.limit, cursor=page.cursor)
        kind = route.cursor.format(**inputs) if route.cursor else None
        if kind is not None:
            inputs["cursor"] = unwrap_cursor(ctx, kind, inputs.get("cursor"))
        request = build_request(route, route.prepare(inputs) if route.prepare else inputs, body, names)

        async def call() -> tuple[int, BaseModel | Response]:
            deadline = route.deadline(request) if route.deadline else None
            prefix = "body." if route.body is not None else "query."
            if route.raw_reply:
                data = await forward_named_json(
                    ctx, route.service, route.op, request, route.reply,
                    names=names, prefix=prefix, timeout_s=deadline,
                )  # fmt: skip
                return route.status, Response(data, route.status, media_type="application/json")
            reply = await forward_named(
                ctx, route.service, route.op, request, route.reply,
                names=names, prefix=prefix, timeout_s=deadline,
            )  # fmt: skip
            if kind is not None:
                reply = with_cursor(reply, wrap_cursor(ctx, kind, getattr(reply, "next_cursor", None)))
            return route.status, reply

        if route.idempotent:
            return await run_idempotent(ctx, key, body, call)
        return (await call())[1]

    forwarded.__name__ = forwarded.__qualname__ = route.name
    forwarded.__doc__ = None  # FastAPI would take a docstring as the description
    forwarded.__signature__ = signature(route)  # type: ignore[attr-defined]
    return forwarded


def signature(route: Forward) -> inspect.Signature:
    params = [
        inspect.Parameter(p.name, KW, annotation=Annotated[p.annotation, p.spec], default=p.default)
        for p in route.path_params
    ]
    caller = require(route.scope, bucket=route.bucket)
    params.append(inspect.Parameter("ctx", KW, annotation=Annotated[CallContext, Depends(caller)]))
    if route.page:
        params.append(inspect.Parameter("page", KW, annotation=Annotated[PageQuery, Depends(page_query)]))
    if route.idempotent:
        key = Annotated[str | None, Depends(idempotency_key)]
        params.append(inspect.Parameter("key", KW, annotation=key))
    if route.body is not None:
        params.append(inspect.Parameter("body", KW, annotation=route.body))
    params.extend(
        inspect.Parameter(p.name, KW, annotation=Annotated[p.annotation, p.spec], default=p.default)
        for p in route.query
    )
    return inspect.Signature(params)


def check_nul(inputs: Inputs, body: BaseModel | None, names: dict[str, str]) -> None:
    for name, value in inputs.items():
        no_nul(value, names.get(name, f"query.{name}"))
    if body is not None:
        no_nul(body.model_dump(mode="json"), "body")


def build_request(route: Forward, inputs: Inputs, body: BaseModel | None, names: dict[str, str]) -> BaseModel:
    """The op's request: the body as it is when it is the request, else the inputs + body fields."""
    if body is not None and isinstance(body, route.request) and not inputs:
        return body
    fields = {**inputs, **(body.model_dump() if body is not None else {})}
    try:
        return route.request(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        prefix = "body." if route.body is not None else "query."
        raise field_error(public_name(where, names, prefix), first["msg"]) from None
