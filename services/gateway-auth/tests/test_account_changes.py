"""Profile, preference and API-key changes: audited; keys change in place, only their owner's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gateway_testkit import Api

from tradeloom.gateway_auth.account_settings import check_key_scopes
from tradeloom.gateway_auth.domain.scopes import Principal, Role, Scope
from tradeloom.gateway_auth.errors import ValidationFailed

RUN_CODE = {"code": "print(1)"}


async def audit_rows(api: Api, session: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.http.get("/v1/users/me/audit?limit=100", headers=session)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_profile_and_preference_changes_are_audited(api: Api) -> None:
    user, session = await api.user()
    patched = await api.http.patch("/v1/users/me", headers=session, json={"display_name": "Ada L."})
    assert patched.status_code == 200 and patched.json()["display_name"] == "Ada L."
    prefs = {"timezone": "Europe/Paris", "ui": {"theme": "dark"}}
    changed = await api.http.patch("/v1/users/me/preferences", headers=session, json=prefs)
    assert changed.status_code == 200 and changed.json()["ui"]["theme"] == "dark"
    entries = {row["action"]: row for row in await audit_rows(api, session)}
    profile, preferences = entries["profile_updated"], entries["preferences_updated"]
    assert profile["outcome"] == "success" and profile["details"]["fields"] == ["display_name"]
    assert preferences["details"]["fields"] == ["timezone", "ui"]
    assert profile["user_id"] == profile["actor_id"] == user["id"] and profile["ip"] == "203.0.113.7"
    assert "Europe/Paris" not in str(preferences["details"])  # which fields, not their values


async def test_an_api_key_changes_in_place_and_audited(api: Api) -> None:
    _, session = await api.user()
    body = {"name": "bot", "scopes": ["read"]}
    created = (await api.http.post("/v1/api-keys", headers=session, json=body)).json()
    key, url = {"X-API-Key": created["key"]}, f"/v1/api-keys/{created['id']}"
    assert (await api.http.post("/v1/sandbox/execute", headers=key, json=RUN_CODE)).status_code == 403

    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    patch = {"name": "trader", "scopes": ["trade", "read"], "expires_at": expires}
    updated = await api.http.patch(url, headers=session, json=patch)
    assert updated.status_code == 200, updated.text
    out = updated.json()
    assert out["name"] == "trader" and out["scopes"] == ["read", "trade"] and out["expires_at"]
    assert out["masked_key"] == created["masked_key"]  # the same key, not a replacement
    # the same secret now has the new scope (no 403: it reaches the scope check and passes it)
    assert (await api.http.post("/v1/sandbox/execute", headers=key, json=RUN_CODE)).status_code != 403

    only_name = await api.http.patch(url, headers=session, json={"expires_at": None})
    assert only_name.json()["expires_at"] is None and only_name.json()["name"] == "trader"
    assert (await api.http.patch(url, headers=session, json={})).json()["scopes"] == ["read", "trade"]

    entries = [row for row in await audit_rows(api, session) if row["action"] == "api_key_updated"]
    assert [row["details"]["fields"] for row in entries] == [
        ["expires_at"],
        ["expires_at", "name", "scopes"],
    ]
    assert all(row["details"]["api_key_id"] == created["id"] for row in entries)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"scopes": ["admin"]}, "body.scopes.0"),
        ({"scopes": []}, "body.scopes"),
        ({"name": None}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "body.expires_at"),
        ({"secret": "x"}, "body.secret"),
    ],
)
async def test_bad_key_updates_name_the_field(api: Api, patch: dict[str, Any], field: str) -> None:
    _, session = await api.user()
    created = await api.http.post("/v1/api-keys", headers=session, json={"name": "b", "scopes": ["read"]})
    response = await api.http.patch(f"/v1/api-keys/{created.json()['id']}", headers=session, json=patch)
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["details"]["fields"]]


async def test_only_the_owner_updates_a_live_key(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    created = (
        await api.http.post("/v1/api-keys", headers=bob, json={"name": "b", "scopes": ["read"]})
    ).json()
    url = f"/v1/api-keys/{created['id']}"
    stolen = await api.http.patch(url, headers=alice, json={"scopes": ["read", "trade"]})
    assert stolen.status_code == 404 and stolen.json()["code"] == "not_found"
    assert (await api.http.get(url, headers=bob)).json()["scopes"] == ["read"]
    # an API key cannot manage keys, not even itself
    key = {"X-API-Key": created["key"]}
    assert (await api.http.patch(url, headers=key, json={"name": "x"})).status_code == 403
    assert (await api.http.delete(url, headers=bob)).status_code == 204
    revoked = await api.http.patch(url, headers=bob, json={"name": "again"})
    assert revoked.status_code == 409 and revoked.json()["code"] == "api_key_revoked"


def test_key_scopes_cannot_exceed_the_callers_own() -> None:
    reader = Principal("u", Role.USER, frozenset({Scope.READ}), "session")
    assert check_key_scopes(reader, ["read", "read"]) == ["read"]
    with pytest.raises(ValidationFailed) as raised:
        check_key_scopes(reader, ["read", "trade"])
    assert raised.value.code == "scope_not_allowed"
