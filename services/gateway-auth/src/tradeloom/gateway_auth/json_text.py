"""Refuse a JSON body that holds a lone UTF-16 surrogate (``"\\ud800"``), for every route, at the edge.

``json.loads`` accepts a lone surrogate (as the escape ``\\ud800``, or as its raw bytes, which it
decodes with ``surrogatepass``), and pydantic keeps it in a ``str``; but such a string is not
Unicode text and cannot be encoded as UTF-8, so the first NATS or Postgres write deep inside a
route failed with a 500 that also broke the keep-alive connection. This pure ASGI middleware reads
a JSON body (it is small: the outer body limit applies), and answers 422 naming the field (or the
object holding the key) before any route sees it. Routes that stream a body of another kind (the
dataset upload) are passed through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeloom.gateway_auth.problems import problem

MAX_FIELDS = 5


def _lone(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shown(text: str) -> str:
    """``text`` with its surrogates as ``\\udxxx`` escapes (the answer must be valid UTF-8 itself)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogates(value: Any, where: str = "body") -> list[dict[str, str]]:
    """Every place in a parsed JSON document holding a lone surrogate, as ``{field, message}``."""
    if isinstance(value, str):
        return [{"field": where, "message": "must be valid Unicode text (it holds a lone surrogate)"}]
    found: list[dict[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _lone(key):
                message = f"has a key that is not valid Unicode text (a lone surrogate): {_shown(key)!r}"
                found.append({"field": where, "message": message})
            if _holds_lone(item):
                found.extend(lone_surrogates(item, f"{where}.{_shown(key)}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if _holds_lone(item):
                found.extend(lone_surrogates(item, f"{where}.{index}"))
    return found


def _holds_lone(value: Any) -> bool:
    if isinstance(value, str):
        return _lone(value)
    if isinstance(value, dict):
        return any(_lone(key) or _holds_lone(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_lone(item) for item in value)
    return False


def body_problems(body: bytes) -> list[dict[str, str]]:
    # a lone surrogate arrives as a \u escape or as raw bytes ED A0..BF xx: anything else is clean
    if b"\\u" not in body and b"\xed" not in body:
        return []
    try:
        document = json.loads(body)
    except ValueError:  # not JSON (or not UTF-8): FastAPI's own parsing answers it
        return []
    return lone_surrogates(document) if _holds_lone(document) else []


def _is_json(scope: Scope) -> bool:
    """As FastAPI decides: no content type, or ``*/json`` / ``*/*+json``, is parsed as JSON."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            declared = bytes(value).decode("latin-1")
            subtype = declared.split(";", 1)[0].strip().lower().partition("/")[2]
            return subtype == "json" or subtype.endswith("+json")
    return True


class JsonTextGuard:
    def __init__(self, app: ASGIApp, passthrough: Collection[tuple[str, str]] = ()) -> None:
        self.app = app
        self.passthrough = frozenset(passthrough)  # (method, exact path) whose body is streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or (scope["method"], scope["path"]) in self.passthrough
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        fields = body_problems(body)
        if fields:
            named = ", ".join(item["field"] for item in fields[:MAX_FIELDS])
            response = problem(
                422,
                "validation_error",
                f"invalid request: {named}",
                details={"fields": fields[:MAX_FIELDS]},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands out ``messages`` (the body already read), then the real one."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
