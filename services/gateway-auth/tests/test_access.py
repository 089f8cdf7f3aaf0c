"""API keys and scopes, roles, disabled users, preferences, the audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway_testkit import PASSWORD, Api, ApiFactory


async def test_api_keys_shown_once_listed_masked_and_revocable(api: Api) -> None:
    user, session = await api.user()
    created = await api.http.post("/v1/api-keys", headers=session, json={"name": "bot", "scopes": ["read"]})
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith("tlk_") and key["masked_key"].endswith("_…")
    listed = (await api.http.get("/v1/api-keys", headers=session)).json()
    assert [item["id"] for item in listed["items"]] == [key["id"]]
    assert "key" not in listed["items"][0] and key["key"] not in str(listed)
    one = (await api.http.get(f"/v1/api-keys/{key['id']}", headers=session)).json()
    assert one["masked_key"] == key["masked_key"]

    for headers in ({"Authorization": f"Bearer {key['key']}"}, {"X-API-Key": key["key"]}):
        me = await api.http.get("/v1/users/me", headers=headers)
        assert me.status_code == 200 and me.json()["id"] == user["id"]
    assert (await api.http.delete(f"/v1/api-keys/{key['id']}", headers=session)).status_code == 204
    revoked = await api.http.get("/v1/users/me", headers={"X-API-Key": key["key"]})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    assert (await api.http.delete(f"/v1/api-keys/{key['id']}", headers=session)).status_code == 204
    tampered = key["key"][:-3] + "abc"
    assert (await api.http.get("/v1/users/me", headers={"X-API-Key": tampered})).status_code == 401


async def test_api_key_scopes_and_limits(api: Api) -> None:
    _, session = await api.user()
    for scopes in (["admin"], [], ["read", "write"]):
        bad = await api.http.post("/v1/api-keys", headers=session, json={"name": "x", "scopes": scopes})
        assert bad.status_code == 422 and bad.json()["details"]["fields"][0]["field"].startswith(
            "body.scopes"
        )
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    bad = await api.http.post(
        "/v1/api-keys", headers=session, json={"name": "x", "scopes": ["read"], "expires_at": past}
    )
    assert bad.status_code == 422 and bad.json()["details"]["fields"][0]["field"] == "body.expires_at"
    key = (
        await api.http.post("/v1/api-keys", headers=session, json={"name": "r", "scopes": ["read"]})
    ).json()
    headers = {"X-API-Key": key["key"]}
    # an API key cannot manage credentials, whatever its scopes
    for method, path in (("POST", "/v1/api-keys"), ("GET", "/v1/api-keys"), ("POST", "/v1/auth/logout-all")):
        refused = await api.http.request(
            method, path, headers=headers, json={"name": "y", "scopes": ["read"]}
        )
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "forbidden"
    assert (
        await api.http.patch("/v1/users/me", headers=headers, json={"display_name": "x"})
    ).status_code == 403


async def test_expiring_api_key_stops_working(api: Api) -> None:
    _, session = await api.user()
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    body = {"name": "short", "scopes": ["read", "trade"], "expires_at": soon}
    key = (await api.http.post("/v1/api-keys", headers=session, json=body)).json()
    assert key["scopes"] == ["read", "trade"]
    assert (await api.http.get("/v1/users/me", headers={"X-API-Key": key["key"]})).status_code == 200
    await asyncio.sleep(1.2)
    assert (await api.http.get("/v1/users/me", headers={"X-API-Key": key["key"]})).status_code == 401


async def test_admin_disables_user_and_their_tokens_stop_at_once(make_api: ApiFactory) -> None:
    api = await make_api(user_cache_s=0)
    victim, session = await api.user()
    tokens = await api.login(victim["email"])
    key = (
        await api.http.post("/v1/api-keys", headers=session, json={"name": "k", "scopes": ["read"]})
    ).json()
    _, admin = await api.admin()
    assert (await api.http.get("/v1/admin/users", headers=session)).status_code == 403
    users = (await api.http.get("/v1/admin/users", headers=admin)).json()
    assert victim["id"] in [u["id"] for u in users["items"]]

    disabled = await api.http.post(f"/v1/admin/users/{victim['id']}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert (await api.http.get("/v1/users/me", headers=session)).status_code == 401
    assert (await api.http.get("/v1/users/me", headers={"X-API-Key": key["key"]})).status_code == 401
    refresh = await api.http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    login = await api.http.post("/v1/auth/login", json={"email": victim["email"], "password": PASSWORD})
    assert login.status_code == 401 and "disabled" in login.json()["detail"]

    assert (await api.http.post(f"/v1/admin/users/{victim['id']}/enable", headers=admin)).status_code == 200
    await api.login(victim["email"])
    missing = await api.http.post(
        "/v1/admin/users/01890a5d-ac96-774b-bcce-b302099a8057/disable", headers=admin
    )
    assert missing.status_code == 404


async def test_audit_log_own_entries_and_admin_reads_all(api: Api) -> None:
    alice, alice_session = await api.user()
    bob, bob_session = await api.user()
    await api.http.post("/v1/api-keys", headers=alice_session, json={"name": "k", "scopes": ["read"]})
    own = (await api.http.get("/v1/users/me/audit", headers=alice_session)).json()["items"]
    assert {entry["user_id"] for entry in own} == {alice["id"]}
    assert {"register", "login", "api_key_created"} <= {entry["action"] for entry in own}
    assert all(entry["ip"] == "203.0.113.7" for entry in own)
    assert (await api.http.get("/v1/admin/audit", headers=bob_session)).status_code == 403
    _, admin = await api.admin()
    everyone = (await api.http.get("/v1/admin/audit?limit=200", headers=admin)).json()["items"]
    assert {alice["id"], bob["id"]} <= {entry["user_id"] for entry in everyone}
    only_bob = (await api.http.get(f"/v1/admin/audit?user_id={bob['id']}", headers=admin)).json()["items"]
    assert {entry["user_id"] for entry in only_bob} == {bob["id"]}


async def test_preferences_defaults_and_partial_update(api: Api) -> None:
    _, session = await api.user()
    defaults = (await api.http.get("/v1/users/me/preferences", headers=session)).json()
    assert defaults["mode"] == "beginner" and defaults["timezone"] == "UTC"
    assert defaults["notifications"]["email"] is True
    patch = {"mode": "expert", "notifications": {"push": True}, "ui": {"theme": "dark"}}
    updated = (await api.http.patch("/v1/users/me/preferences", headers=session, json=patch)).json()
    assert updated["mode"] == "expert" and updated["notifications"]["push"] is True
    assert updated["notifications"]["email"] is True  # untouched fields keep their values
    again = (
        await api.http.patch("/v1/users/me/preferences", headers=session, json={"timezone": "Europe/Paris"})
    ).json()
    assert (
        again["timezone"] == "Europe/Paris" and again["mode"] == "expert" and again["ui"]["theme"] == "dark"
    )
    reset = (await api.http.patch("/v1/users/me/preferences", headers=session, json={"ui": None})).json()
    assert reset["ui"]["theme"] == "system"
    for bad, field in (({"timezone": "Mars/Olympus"}, "body.timezone"), ({"mode": "god"}, "body.mode"),
                       ({"notifications": {"sms": True}}, "body.notifications.sms")):  # fmt: skip
        response = await api.http.patch("/v1/users/me/preferences", headers=session, json=bad)
        assert response.status_code == 422 and response.json()["details"]["fields"][0]["field"] == field
    profile = await api.http.patch("/v1/users/me", headers=session, json={"display_name": "Ada L."})
    assert profile.json()["display_name"] == "Ada L."
    sneaky = await api.http.patch("/v1/users/me", headers=session, json={"role": "admin"})
    assert sneaky.status_code == 422 and sneaky.json()["details"]["fields"][0]["field"] == "body.role"


async def test_sessions_listed_and_ended(api: Api) -> None:
    user, session = await api.user()
    other = await api.login(user["email"])
    listed = (await api.http.get("/v1/users/me/sessions", headers=session)).json()["items"]
    # register's own session, and two logins
    assert len(listed) == 3 and sum(item["current"] for item in listed) == 1
    target = next(item["id"] for item in listed if not item["current"])
    assert (await api.http.delete(f"/v1/users/me/sessions/{target}", headers=session)).status_code == 204
    assert (
        await api.http.get("/v1/users/me", headers={"Authorization": f"Bearer {other['access_token']}"})
    ).status_code == 401
