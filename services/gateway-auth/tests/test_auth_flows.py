"""Register, log in, refresh with rotation and reuse detection, log out, change password, expiry."""

from __future__ import annotations

import asyncio

from gateway_testkit import PASSWORD, Api, ApiFactory
from sqlalchemy import text


async def test_register_login_me(api: Api) -> None:
    user = await api.register("Ada@Example.com")
    assert user["email"] == "ada@example.com"
    assert user["role"] == "user" and user["status"] == "active"
    tokens = await api.login("ADA@example.com")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = await api.http.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert me.headers["x-request-id"]
    assert me.headers["x-content-type-options"] == "nosniff"


async def test_duplicate_email_is_conflict(api: Api) -> None:
    await api.register("dup@example.com")
    again = await api.http.post("/v1/auth/register", json={"email": "DUP@example.com", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"
    assert again.headers["content-type"] == "application/problem+json"


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def audit_actions(api: Api, user_id: str) -> list[tuple[str, str, str | None]]:
    async with api.engine.connect() as conn:
        rows = await conn.execute(
            text(
                f'SELECT action, outcome, ip FROM "{api.outbox_schema}".audit_log '
                "WHERE user_id = :id ORDER BY id"
            ),
            {"id": user_id},
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    user = await api.register()
    first = await api.login(user["email"])
    second = (await api.http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = await api.http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    # the spent first token comes back (stolen?): the whole family dies, the newest tokens too
    reused = await api.http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_refresh_token"
    newest = await api.http.post("/v1/auth/refresh", json={"refresh_token": third.json()["refresh_token"]})
    assert newest.status_code == 401
    me = await api.http.get("/v1/users/me", headers=bearer(third.json()))
    assert me.status_code == 401  # the access token of a revoked session stops too
    assert ("session_revoked", "refresh_token_reused", "203.0.113.7") in await audit_actions(api, user["id"])
    unknown = await api.http.post("/v1/auth/refresh", json={"refresh_token": "tlr_nonsense"})
    assert unknown.status_code == 401


async def test_logout_and_logout_everywhere(api: Api) -> None:
    user = await api.register()
    a, b = await api.login(user["email"]), await api.login(user["email"])
    assert (await api.http.post("/v1/auth/logout", headers=bearer(a))).status_code == 204
    assert (await api.http.get("/v1/users/me", headers=bearer(a))).status_code == 401
    assert (
        await api.http.post("/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
    ).status_code == 401
    assert (await api.http.get("/v1/users/me", headers=bearer(b))).status_code == 200
    c = await api.login(user["email"])
    assert (await api.http.post("/v1/auth/logout-all", headers=bearer(c))).status_code == 204
    for tokens in (b, c):
        assert (await api.http.get("/v1/users/me", headers=bearer(tokens))).status_code == 401
        refreshed = await api.http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401
    assert (
        await api.http.get("/v1/users/me", headers=bearer(await api.login(user["email"])))
    ).status_code == 200


async def test_change_password(api: Api) -> None:
    user = await api.register()
    mine, other = await api.login(user["email"]), await api.login(user["email"])
    wrong = await api.http.post(
        "/v1/auth/password", headers=bearer(mine), json={"current_password": "nope", "new_password": "x"}
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_password"
    assert wrong.json()["details"]["fields"][0]["field"] == "body.current_password"
    weak = await api.http.post(
        "/v1/auth/password",
        headers=bearer(mine),
        json={"current_password": PASSWORD, "new_password": "password123"},
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    new = "amber-orchid-lantern-77"
    ok = await api.http.post(
        "/v1/auth/password", headers=bearer(mine), json={"current_password": PASSWORD, "new_password": new}
    )
    assert ok.status_code == 204
    assert (await api.http.get("/v1/users/me", headers=bearer(mine))).status_code == 200
    assert (await api.http.get("/v1/users/me", headers=bearer(other))).status_code == 401
    old = await api.http.post("/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert old.status_code == 401
    await api.login(user["email"], new)
    actions = await audit_actions(api, user["id"])
    assert ("password_change", "failure", "203.0.113.7") in actions
    assert ("password_change", "success", "203.0.113.7") in actions


async def test_weak_passwords_are_refused_with_a_reason(api: Api) -> None:
    cases = {
        "short1!": "at least",
        "Password123!": "commonly used",
        "qwertyuiop": "commonly used",
        "aaaaaaaaaaaa": "repetitive",
        "abcdefghijkl": "repetitive or sequential",
        "mallory-secret-99": "email",
    }
    for password, reason in cases.items():
        response = await api.http.post(
            "/v1/auth/register", json={"email": "mallory@example.com", "password": password}
        )
        assert response.status_code == 422, password
        body = response.json()
        assert body["code"] == "weak_password"
        assert body["details"]["fields"][0]["field"] == "body.password"
        assert reason in body["details"]["fields"][0]["message"], (password, body)


async def test_login_failures_are_audited_and_lock_progressively(make_api: ApiFactory) -> None:
    api = await make_api(lockout_after=2, lockout_base_s=1, lockout_max_s=4)
    user = await api.register()
    bad = {"email": user["email"], "password": "wrong-password-123"}
    first = await api.http.post("/v1/auth/login", json=bad)
    assert first.status_code == 401 and first.json()["code"] == "unauthorized"
    second = await api.http.post("/v1/auth/login", json=bad)
    assert second.status_code == 429 and second.headers["retry-after"] == "1"
    locked = await api.http.post("/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert locked.status_code == 429  # even the right password waits out the lock
    await asyncio.sleep(1.1)
    third = await api.http.post("/v1/auth/login", json=bad)
    assert third.status_code == 429 and third.headers["retry-after"] == "2"  # doubled
    await asyncio.sleep(2.1)
    await api.login(user["email"])  # success clears the counter
    assert (await api.http.post("/v1/auth/login", json=bad)).status_code == 401
    actions = await audit_actions(api, user["id"])
    assert ("login", "failure", "203.0.113.7") in actions and ("login", "success", "203.0.113.7") in actions
    unknown = await api.http.post("/v1/auth/login", json={"email": "nobody@example.com", "password": "x"})
    assert unknown.status_code == 401


async def test_access_and_refresh_tokens_expire(make_api: ApiFactory) -> None:
    # exp is whole seconds (int(now + ttl)): a 1 s ttl may leave almost nothing, so 2 s
    api = await make_api(access_ttl_s=2, refresh_ttl_s=2)
    user = await api.register()
    tokens = await api.login(user["email"])
    assert (await api.http.get("/v1/users/me", headers=bearer(tokens))).status_code == 200
    await asyncio.sleep(3.1)
    expired = await api.http.get("/v1/users/me", headers=bearer(tokens))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired.headers["www-authenticate"].startswith("Bearer")
    refreshed = await api.http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401 and "expired" in refreshed.json()["detail"]


async def test_hash_parameters_are_upgraded_on_login(make_api: ApiFactory) -> None:
    old = await make_api()
    user = await old.register()
    stronger = await make_api(argon2_time_cost=3)
    await stronger.login(user["email"])
    async with stronger.engine.connect() as conn:
        stored = (
            await conn.execute(
                text(f'SELECT password_hash FROM "{stronger.outbox_schema}".credentials WHERE user_id = :id'),
                {"id": user["id"]},
            )
        ).scalar_one()
    assert stored.startswith("$argon2id$") and ",t=3," in stored and "m=19456" in stored
    await stronger.login(user["email"])


async def test_registration_event_goes_to_the_outbox(api: Api) -> None:
    user = await api.register()
    async with api.engine.connect() as conn:
        subjects = (
            (await conn.execute(text(f'SELECT subject FROM "{api.outbox_schema}".outbox'))).scalars().all()
        )
    assert any(s.endswith(f"auth.evt.user_registered.v1.{user['id']}") for s in subjects)
