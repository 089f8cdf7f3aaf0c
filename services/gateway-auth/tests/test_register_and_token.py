"""Register answers with a session's tokens; the OAuth2 password form logs in like JSON login."""

from __future__ import annotations

from gateway_testkit import PASSWORD, Api, ApiFactory

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_register_answers_the_user_and_a_token_pair(api: Api) -> None:
    response = await api.http.post(
        "/v1/auth/register", json={"email": "new@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "new@example.com" and body["role"] == "user" and body["status"] == "active"
    tokens = body["tokens"]
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = await api.http.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == body["id"]
    refreshed = await api.http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    sessions = await api.http.get(
        "/v1/users/me/sessions", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert [s["ip"] for s in sessions.json()["items"]] == ["203.0.113.7"]


async def test_oauth2_password_form_logs_in(api: Api) -> None:
    user = await api.register()
    form = {"grant_type": "password", "username": user["email"], "password": PASSWORD, "scope": ""}
    response = await api.http.post("/v1/auth/token", data=form | {"client_id": "swagger"})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900 and tokens["refresh_token"]
    me = await api.http.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == user["id"]

    wrong = await api.http.post("/v1/auth/token", data=form | {"password": "not-it"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    bad_grant = await api.http.post("/v1/auth/token", data=form | {"grant_type": "client_credentials"})
    assert bad_grant.status_code == 422
    assert "body.grant_type" in [f["field"] for f in bad_grant.json()["details"]["fields"]]
    missing = await api.http.post("/v1/auth/token", content=b"username=a%40b.co", headers=FORM)
    assert missing.status_code == 422
    assert "body.password" in [f["field"] for f in missing.json()["details"]["fields"]]
    nul = await api.http.post("/v1/auth/token", data=form | {"username": "a\x00@b.co"})
    assert nul.status_code == 422


async def test_oauth2_form_has_the_login_limits_and_lockout(make_api: ApiFactory) -> None:
    api = await make_api(lockout_after=2, lockout_base_s=60)
    user = await api.register()
    form = {"grant_type": "password", "username": user["email"], "password": "wrong-password-1"}
    codes = [(await api.http.post("/v1/auth/token", data=form)).status_code for _ in range(3)]
    assert codes == [401, 429, 429]
    right = await api.http.post("/v1/auth/token", data=form | {"password": PASSWORD})
    assert right.status_code == 429 and right.headers["retry-after"]
    json_login = await api.http.post("/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert json_login.status_code == 429  # one lock for both forms

    limited = await make_api(client_ip="198.51.100.77", rate_login_capacity=2, rate_login_per_s=0.001)
    codes = [(await limited.http.post("/v1/auth/token", data=form)).status_code for _ in range(3)]
    assert codes[-1] == 429


async def test_openapi_points_the_docs_authorize_button_at_the_token_form(api: Api) -> None:
    spec = (await api.http.get("/v1/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    oauth2 = [s for s in schemes.values() if s["type"] == "oauth2"]
    assert oauth2 == [
        {
            "type": "oauth2",
            "flows": {"password": {"scopes": {}, "tokenUrl": "/v1/auth/token"}},
            "description": "log in with email and password",
        }
    ]
    token_op = spec["paths"]["/v1/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
    me_security = spec["paths"]["/v1/users/me"]["get"]["security"]
    assert {"OAuth2PasswordBearer": []} in me_security and {"HTTPBearer": []} in me_security
    docs = await api.http.get("/v1/docs")
    assert docs.status_code == 200
