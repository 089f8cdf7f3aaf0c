"""Bad input refused at the gateway's edge, against the app under uvicorn (a real keep-alive socket):
a lone UTF-16 surrogate anywhere in any route's JSON body is a 422 naming where, with a request id,
and the connection keeps working; the Swagger OAuth2 redirect page lives under ``/v1``."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from gateway_testkit import PASSWORD, make_settings, migrated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_backend import RuntimesThread, sandbox_executor
from served import ServedGateway

PATH_VALUES = {
    "user_id": "0190b6a4-0000-7000-8000-000000000001",
    "key_id": "0190b6a4-0000-7000-8000-000000000002",
    "session_id": "0190b6a4-0000-7000-8000-000000000003",
    "version": "1",
}
LONE = st.integers(0xD800, 0xDFFF).map(chr)  # either half of a pair, alone
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture
def served(database_url: str, nats_url: str, db_schema: str, nats_prefix: str) -> Iterator[str]:
    """The gateway under uvicorn with a real sandbox-executor behind it."""
    asyncio.run(migrated(database_url, db_schema))
    settings_ = make_settings(database_url, nats_url, db_schema, nats_prefix, rate_code_capacity=50)
    backends = RuntimesThread(lambda: sandbox_executor(database_url, nats_url, db_schema, nats_prefix))
    with backends, ServedGateway(settings_) as base_url:
        yield base_url


def _session(base_url: str, email: str) -> dict[str, str]:
    assert httpx.post(f"{base_url}/v1/auth/register", json={"email": email, "password": PASSWORD}).is_success
    tokens = httpx.post(f"{base_url}/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _send(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    payload = json.loads(response.read())
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def _assert_refused(status: int, headers: dict[str, str], problem: Any, field: str) -> None:
    assert status == 422, problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["code"] == "validation_error" and problem["request_id"] == headers["x-request-id"]
    assert field in [item["field"] for item in problem["details"]["fields"]], problem


def test_lone_surrogate_in_sandbox_execute_is_422_and_the_connection_lives_on(served: str) -> None:
    session = _session(served, "surrogate@example.com")
    address = urlsplit(served)
    conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    try:
        status, headers, problem = _send(
            conn, "/v1/sandbox/execute", b'{"code":"print(1)","input":"\\ud800"}', session
        )
        _assert_refused(status, headers, problem, "body.input")
        socket_before = conn.sock
        assert socket_before is not None  # the server kept the connection open
        as_key = b'{"code":"print(1)","input":{"ok":[1,{"\\udfff":2}]}}'
        _assert_refused(*_send(conn, "/v1/sandbox/jobs", as_key, session), "body.input.ok.1")
        raw = b'{"code":"print(1)","input":"a\xed\xa0\x80"}'  # the surrogate's own bytes, not an escape
        _assert_refused(*_send(conn, "/v1/sandbox/execute", raw, session), "body.input")
        pair = b'{"code":"print(input_data)","input":"\\ud83d\\ude00"}'  # a real pair is fine
        status, _, ran = _send(conn, "/v1/sandbox/execute", pair, session)
        assert status == 200 and ran["stdout"] == "\U0001f600\n", ran
        assert conn.sock is socket_before  # every answer came over the same keep-alive connection
    finally:
        conn.close()


def _json_routes(base_url: str) -> list[tuple[str, str]]:
    openapi = httpx.get(f"{base_url}/v1/openapi.json", timeout=60).json()  # built on first ask
    routes = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                filled = path
                for name, value in PATH_VALUES.items():
                    filled = filled.replace("{" + name + "}", value)
                routes.append((method.upper(), filled.replace("{", "").replace("}", "")))
    return routes


@st.composite
def poisoned(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A JSON object with one lone surrogate somewhere (in a value or a key) and where it is."""
    text = draw(st.text(max_size=4))
    at = draw(st.integers(0, len(text)))
    bad = text[:at] + draw(LONE) + text[at:]
    in_key = draw(st.booleans())
    node: Any = {bad: draw(VALUES)} if in_key else bad
    steps: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            siblings = draw(st.lists(VALUES, max_size=2))
            index = draw(st.integers(0, len(siblings)))
            node = [*siblings[:index], node, *siblings[index:]]
            steps.append(str(index))
        else:
            key = draw(st.text(min_size=1, max_size=6))
            node = {**draw(st.dictionaries(st.text(max_size=6), VALUES, max_size=2)), key: node}
            steps.append(key)
    key = draw(st.sampled_from(["code", "input", "name", "params", "email", "x"]))
    document = {**draw(st.dictionaries(st.text(max_size=6), VALUES, max_size=2)), key: node}
    steps.append(key)
    return document, ".".join(["body", *reversed(steps)])


def test_lone_surrogates_anywhere_in_any_json_body_are_422(served: str) -> None:
    session = _session(served, "fuzz-surrogate@example.com")
    routes = _json_routes(served)
    assert len(routes) >= 12  # every route that takes a JSON body (a new one is covered too)
    with httpx.Client(base_url=served, headers=session, timeout=60) as client:

        @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(route=st.sampled_from(routes), case=poisoned(), raw=st.booleans())
        def check(route: tuple[str, str], case: tuple[dict[str, Any], str], raw: bool) -> None:
            document, where = case
            text = json.dumps(document, ensure_ascii=not raw)
            body = text.encode("utf-8", "surrogatepass")
            response = client.request(
                route[0], route[1], content=body, headers={"Content-Type": "application/json"}
            )
            _assert_refused(response.status_code, dict(response.headers), response.json(), where)

        check()
        assert client.get("/v1/users/me").status_code == 200  # the same client still works


def test_swagger_oauth2_redirect_is_under_v1(served: str) -> None:
    assert httpx.get(f"{served}/docs/oauth2-redirect").status_code == 404
    redirect = httpx.get(f"{served}/v1/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()
    docs = httpx.get(f"{served}/v1/docs").text
    assert "/v1/docs/oauth2-redirect" in docs  # the Authorize button comes back to it
