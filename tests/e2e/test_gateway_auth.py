"""Accounts through the real gateway process: register, log in, use tokens and keys, refresh, log out."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "violet-harbor-kettle-42"


def test_account_lifecycle_through_the_gateway(stack: Stack) -> None:
    stack.wait_all_up()
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        assert http.get("/v1/users/me").status_code == 401
        user = http.post("/v1/auth/register", json={"email": "e2e@example.com", "password": PASSWORD})
        assert user.status_code == 201, user.text
        tokens = http.post("/v1/auth/login", json={"email": "e2e@example.com", "password": PASSWORD}).json()
        session = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = http.get("/v1/users/me", headers=session)
        assert me.status_code == 200 and me.json()["id"] == user.json()["id"]
        assert me.headers["x-request-id"]
        key = http.post("/v1/api-keys", headers=session, json={"name": "e2e", "scopes": ["read"]}).json()
        assert http.get("/v1/users/me", headers={"X-API-Key": key["key"]}).status_code == 200
        rotated = http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200
        assert (
            http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
        )
        new_session = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
        assert http.get("/v1/users/me", headers=new_session).status_code == 401  # family revoked on reuse
        assert http.get("/v1/system/status").status_code == 200  # public, no token needed
