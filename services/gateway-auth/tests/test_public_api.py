"""Bad input battery, problem+json, pagination, body limit, CORS, security headers, idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway_testkit import PASSWORD, Api, ApiFactory

PROBLEM = "application/problem+json"


def fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["field"] for item in response.json()["details"]["fields"]]


async def test_bad_input_battery(api: Api) -> None:
    _, session = await api.user()
    post = api.http.post
    malformed = await post(
        "/v1/auth/login",
        content=b'{"email": "a@b.c", "password": ',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
    assert fields(malformed) == ["body"] and malformed.headers["content-type"] == PROBLEM
    wrong_type = await post("/v1/auth/login", json={"email": 5, "password": ["x"]})
    assert wrong_type.status_code == 422 and set(fields(wrong_type)) == {"body.email", "body.password"}
    missing = await post("/v1/auth/register", json={"email": "x@example.com"})
    assert missing.status_code == 422 and fields(missing) == ["body.password"]
    bad_email = await post("/v1/auth/register", json={"email": "not-an-email", "password": PASSWORD})
    assert bad_email.status_code == 422 and fields(bad_email) == ["body.email"]
    mass = await post(
        "/v1/auth/register", json={"email": "m@example.com", "password": PASSWORD, "role": "admin"}
    )
    assert mass.status_code == 422 and fields(mass) == ["body.role"]
    array = await post("/v1/auth/login", json=[1, 2])
    assert array.status_code == 422
    huge_page = await api.http.get("/v1/api-keys?limit=100000", headers=session)
    assert huge_page.status_code == 422 and fields(huge_page) == ["query.limit"]
    bad_cursor = await api.http.get("/v1/api-keys?cursor=garbage", headers=session)
    assert bad_cursor.status_code == 422 and fields(bad_cursor) == ["query.cursor"]
    bad_id = await api.http.get("/v1/api-keys/not-a-uuid", headers=session)
    assert bad_id.status_code == 422 and fields(bad_id) == ["path.key_id"]
    for response in (malformed, wrong_type, huge_page, bad_cursor):
        assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_body_size_limit(make_api: ApiFactory) -> None:
    api = await make_api(max_body_bytes=2048)
    big = {"email": "x@example.com", "password": "p" * 5000}
    declared = await api.http.post("/v1/auth/login", json=big)
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"
    assert declared.headers["x-request-id"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(10):
            yield b"x" * 500

    streamed = await api.http.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_dataset_upload_has_its_own_body_limit(make_api: ApiFactory) -> None:
    """POST /v1/datasets streams a file: DATASET_UPLOAD_MAX_BYTES, not MAX_BODY_BYTES (64 KiB)."""
    api = await make_api(dataset_upload_max_bytes=200_000)
    _, session = await api.user()
    csv = {**session, "content-type": "text/csv"}
    upload = await api.http.post("/v1/datasets", headers=csv, params={"name": "d"}, content=b"x" * 100_000)
    assert upload.status_code == 503, upload.text  # past the body limit; market-data is not running here
    over = await api.http.post("/v1/datasets", headers=csv, params={"name": "d"}, content=b"x" * 200_001)
    assert over.status_code == 413 and over.json()["details"]["max_bytes"] == 200_000
    big_json = {**session, "content-type": "application/json"}
    for method, path in (("POST", "/v1/datasets/ds1/resample"), ("POST", "/v1/backtests")):
        other = await api.http.request(method, path, headers=big_json, content=b" " * 100_000)
        assert other.status_code == 413 and other.json()["details"]["max_bytes"] == 64 * 1024, path


async def test_auth_required_everywhere_but_status(api: Api) -> None:
    schema = (await api.http.get("/v1/openapi.json")).json()
    public = {
        "/v1/system/status",
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/token",
        "/v1/auth/refresh",
        "/v1/auth/browser/login",  # the dashboard's login and cookie refresh: public like the JSON ones
        "/v1/auth/browser/refresh",
        "/v1/sandbox/health",
    }
    checked = 0
    for path, operations in schema["paths"].items():
        if path in public:
            continue
        concrete = path.replace("{key_id}", "01890a5d-ac96-774b-bcce-b302099a8057")
        concrete = concrete.replace("{session_id}", "01890a5d-ac96-774b-bcce-b302099a8057")
        concrete = concrete.replace("{user_id}", "01890a5d-ac96-774b-bcce-b302099a8057")
        for method in operations:
            response = await api.http.request(method.upper(), concrete)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthorized"
            checked += 1
    assert checked >= 12
    garbage = await api.http.get("/v1/users/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401


async def test_problem_json_for_unknown_routes_and_methods(api: Api) -> None:
    missing = await api.http.get("/v1/nothing-here", headers={"X-Request-ID": "abc-123"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing.headers["content-type"] == PROBLEM and missing.headers["x-request-id"] == "abc-123"
    wrong = await api.http.put("/v1/auth/login", json={})
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


async def test_security_headers_and_cors(make_api: ApiFactory) -> None:
    api = await make_api(cors_origins="https://app.tradeloom.dev")
    response = await api.http.get("/v1/nothing", headers={"Origin": "https://app.tradeloom.dev"})
    assert response.headers["access-control-allow-origin"] == "https://app.tradeloom.dev"
    for header in ("x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy"):
        assert header in response.headers
    evil = await api.http.get("/v1/nothing", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    preflight = await api.http.options(
        "/v1/users/me",
        headers={"Origin": "https://app.tradeloom.dev", "Access-Control-Request-Method": "PATCH",
                 "Access-Control-Request-Headers": "authorization, idempotency-key"},
    )  # fmt: skip
    assert preflight.status_code == 200 and "PATCH" in preflight.headers["access-control-allow-methods"]
    refused = await api.http.options(
        "/v1/users/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert refused.status_code == 400


async def test_pagination_walks_every_item_once(api: Api) -> None:
    _, session = await api.user()
    made = set()
    for index in range(7):
        key = await api.http.post(
            "/v1/api-keys", headers=session, json={"name": f"k{index}", "scopes": ["read"]}
        )
        made.add(key.json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await api.http.get("/v1/api-keys", headers=session, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == made and seen == sorted(seen, reverse=True)
    first = (await api.http.get("/v1/api-keys", headers=session, params={"limit": 3})).json()["next_cursor"]
    body, mac = first.split(".")
    tampered = await api.http.get("/v1/api-keys", headers=session, params={"cursor": body[:-2] + "AA." + mac})
    assert tampered.status_code == 422 and fields(tampered) == ["query.cursor"]
    other_list = await api.http.get("/v1/users/me/sessions", headers=session, params={"cursor": first})
    assert (
        other_list.status_code == 422
        and "another list" in other_list.json()["details"]["fields"][0]["message"]
    )


async def test_idempotency_key(api: Api) -> None:
    _, session = await api.user()
    headers = session | {"Idempotency-Key": "create-bot-key-1"}
    body = {"name": "bot", "scopes": ["read"]}
    first = await api.http.post("/v1/api-keys", headers=headers, json=body)
    again = await api.http.post("/v1/api-keys", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    listed = (await api.http.get("/v1/api-keys", headers=session)).json()["items"]
    assert len(listed) == 1
    different = await api.http.post(
        "/v1/api-keys", headers=headers, json={"name": "other", "scopes": ["read"]}
    )
    assert different.status_code == 422 and different.json()["code"] == "idempotency_key_reused"
    assert fields(different) == ["header.Idempotency-Key"]
    _, stranger = await api.user()  # keys are per user: the same key is free for someone else
    theirs = await api.http.post(
        "/v1/api-keys", headers=stranger | {"Idempotency-Key": "create-bot-key-1"}, json=body
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    bad = await api.http.post("/v1/api-keys", headers=session | {"Idempotency-Key": "has space"}, json=body)
    assert bad.status_code == 422
