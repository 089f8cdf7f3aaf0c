"""Account flows: register, log in, refresh (rotation + reuse detection), log out, change password.

Routes stay thin; this module orders the steps (policy, hashing off the event loop, store calls in
one transaction, audit, events through the outbox).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.gateway_auth.domain.accounts import normalize_email
from tradeloom.gateway_auth.domain.passwords import WeakPassword, check_password
from tradeloom.gateway_auth.domain.tokens import digest, new_refresh_token
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.login_throttle import LoginThrottle, locked
from tradeloom.gateway_auth.schemas import TokenPair
from tradeloom.gateway_auth.store.audit import AuditEntry
from tradeloom.gateway_auth.store.sessions import RefreshOutcome
from tradeloom.gateway_auth.store.users import EmailTaken, UserRow
from tradeloom.shared.context import request_id_var
from tradeloom.shared.contracts.auth import UserRegistered, UserStatusChanged
from tradeloom.shared.errors import Conflict, NotFound, Unauthorized

# A real argon2id hash of a random password: unknown emails cost as much as wrong passwords.
_DUMMY_PASSWORD = "not-a-real-password-only-for-timing"  # noqa: S105 - verified, never accepted


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for sessions and the audit log."""

    ip: str
    user_agent: str = ""

    def entry(self, action: str, outcome: str, user_id: str | None, **details: object) -> AuditEntry:
        return AuditEntry(
            action=action,
            outcome=outcome,
            user_id=user_id,
            actor_id=user_id,
            ip=self.ip,
            request_id=request_id_var.get(),
            details=dict(details),
        )


def _weak(field: str, error: WeakPassword) -> Exception:
    return field_error(field, f"password {error}", code="weak_password")


async def register(
    gw: Gateway, email: str, password: str, display_name: str, origin: Origin
) -> tuple[UserRow, TokenPair]:
    """Create the account and start its first session (the client needs no login right after)."""
    try:
        check_password(password, email)
    except WeakPassword as error:
        raise _weak("body.password", error) from error
    password_hash = await asyncio.to_thread(gw.hashing.hash, password)
    refresh = new_refresh_token()
    try:
        async with gw.engine.begin() as conn:
            user = await gw.users.create(conn, email, password_hash, display_name)
            event = UserRegistered(user_id=user.id, role="user", registered_at=user.created_at)
            await gw.outbox.add(conn, event, user.id)
            family = await _start_session(gw, conn, user.id, refresh, origin)
            await gw.audit.add(conn, origin.entry("register", "success", user.id, session_id=family))
    except EmailTaken as error:
        raise Conflict("an account with this email already exists", code="email_taken") from error
    return user, await _issue(gw, user.id, family, refresh)


async def _start_session(
    gw: Gateway, conn: AsyncConnection, user_id: str, refresh: str, origin: Origin
) -> str:
    return await gw.sessions.start(
        conn,
        user_id,
        digest(refresh),
        ttl_s=gw.settings.refresh_ttl_s,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )


async def _issue(gw: Gateway, user_id: str, family_id: str, refresh_token: str) -> TokenPair:
    access, ttl = gw.tokens.issue(user_id, family_id)
    return TokenPair(
        access_token=access,
        expires_in=ttl,
        refresh_token=refresh_token,
        refresh_expires_in=gw.settings.refresh_ttl_s,
    )


async def login(gw: Gateway, raw_email: str, password: str, origin: Origin) -> TokenPair:
    """Check the password (argon2id, off the loop), throttled per (account, client) and per account
    (``login_throttle``)."""
    try:
        email = normalize_email(raw_email)
    except ValueError:
        email = raw_email.strip().lower()[:254]
    throttle = LoginThrottle(gw, email, origin.ip)
    found = await gw.users.by_email(email)
    user_id = found[0].id if found else None
    wait_s, held_by = await throttle.locked_for_s(user_id)
    if wait_s:
        await gw.audit.record(origin.entry("login", "locked", user_id, email=email, lock=held_by))
        raise locked(wait_s)
    stored = found[1] if found else _dummy_hash(gw)
    good = await asyncio.to_thread(gw.hashing.verify, stored, password)
    if found is None or not good or found[0].status != "active":
        reason = "disabled" if found and good else "bad_credentials"
        now_locked = await throttle.failed(user_id)
        await gw.audit.record(origin.entry("login", "failure", user_id, email=email, reason=reason))
        if now_locked is not None:
            raise now_locked
        raise Unauthorized(
            "wrong email or password" if reason == "bad_credentials" else "the account is disabled"
        )
    user, _ = found
    await throttle.succeeded()
    refresh = new_refresh_token()
    async with gw.engine.begin() as conn:
        if gw.hashing.needs_rehash(stored):  # parameters were raised since this hash was made
            rehashed = await asyncio.to_thread(gw.hashing.hash, password)
            await gw.users.set_password_hash(conn, user.id, rehashed)
        family = await _start_session(gw, conn, user.id, refresh, origin)
        await gw.audit.add(conn, origin.entry("login", "success", user.id, session_id=family))
    return await _issue(gw, user.id, family, refresh)


def _dummy_hash(gw: Gateway) -> str:
    cached = getattr(gw, "_dummy_hash", None)
    if cached is None:
        cached = gw.hashing.hash(_DUMMY_PASSWORD)
        gw._dummy_hash = cached  # type: ignore[attr-defined]
    return str(cached)


async def refresh(gw: Gateway, token: str, origin: Origin) -> TokenPair:
    """Rotate: the old token is spent; presenting a spent token again revokes the whole family."""
    new_token = new_refresh_token()
    async with gw.engine.begin() as conn:
        result = await gw.sessions.rotate(conn, digest(token), digest(new_token), gw.settings.refresh_ttl_s)
        if result.outcome is RefreshOutcome.REUSED:
            await gw.audit.add(
                conn,
                origin.entry(
                    "session_revoked", "refresh_token_reused", result.user_id, session_id=result.family_id
                ),
            )
    if result.outcome is RefreshOutcome.ROTATED and result.user_id and result.family_id:
        return await _issue(gw, result.user_id, result.family_id, new_token)
    if result.outcome is RefreshOutcome.REUSED and result.user_id:
        # only a reuse changes anyone's access (its family was just revoked); a bad or expired
        # token must not make every open socket re-check (a cheap way to load the database)
        gw.access_changed(result.user_id)
    messages = {
        RefreshOutcome.UNKNOWN: "the refresh token is invalid",
        RefreshOutcome.EXPIRED: "the refresh token has expired; log in again",
        RefreshOutcome.REVOKED: "the session has ended; log in again",
        RefreshOutcome.REUSED: "the refresh token was already used; the session is revoked, log in again",
    }
    raise Unauthorized(messages[result.outcome], code="invalid_refresh_token")


async def logout(gw: Gateway, user_id: str, session_id: str, origin: Origin) -> None:
    async with gw.engine.begin() as conn:
        await gw.sessions.revoke(conn, session_id, "logout", user_id)
        await gw.audit.add(conn, origin.entry("logout", "success", user_id, session_id=session_id))
    gw.access_changed(user_id)


async def end_session(gw: Gateway, user_id: str, session_id: str, origin: Origin) -> None:
    """Revoke one of the caller's own sessions; 404 for anyone else's (or an unknown id)."""
    async with gw.engine.begin() as conn:
        if not await gw.sessions.revoke(conn, session_id, "revoked by user", user_id):
            raise NotFound("no such session")
        await gw.audit.add(conn, origin.entry("session_revoked", "by_user", user_id, session_id=session_id))
    gw.access_changed(user_id)


async def logout_everywhere(gw: Gateway, user_id: str, origin: Origin) -> None:
    async with gw.engine.begin() as conn:
        count = await gw.sessions.revoke_all(conn, user_id, "logout everywhere")
        await gw.users.invalidate_tokens(conn, user_id)
        await gw.audit.add(conn, origin.entry("logout_everywhere", "success", user_id, sessions=count))
    gw.access_changed(user_id)


async def change_password(
    gw: Gateway, user: UserRow, session_id: str | None, *, current: str, new: str, origin: Origin
) -> None:
    """Needs the current password; other sessions are revoked, this one stays."""
    stored = await gw.users.password_hash(user.id) or _dummy_hash(gw)
    if not await asyncio.to_thread(gw.hashing.verify, stored, current):
        await gw.audit.record(origin.entry("password_change", "failure", user.id, reason="bad_current"))
        raise field_error("body.current_password", "is not your current password", code="wrong_password")
    try:
        check_password(new, user.email)
    except WeakPassword as error:
        raise _weak("body.new_password", error) from error
    if current == new:
        raise field_error("body.new_password", "must differ from the current password")
    new_hash = await asyncio.to_thread(gw.hashing.hash, new)
    async with gw.engine.begin() as conn:
        await gw.users.set_password_hash(conn, user.id, new_hash)
        families = await gw.sessions.active_ids(conn, user.id)
        for family in families:
            if family != session_id:
                await gw.sessions.revoke(conn, family, "password changed", user.id)
        await gw.audit.add(conn, origin.entry("password_change", "success", user.id))
    gw.access_changed(user.id)


async def set_status(gw: Gateway, admin_id: str, user_id: str, status: str, origin: Origin) -> UserRow:
    """Disable (tokens stop at once: status is checked per request) or re-enable an account."""
    async with gw.engine.begin() as conn:
        user = await gw.users.set_status(conn, user_id, status)
        if user is None:
            raise NotFound("no such user")
        if status == "disabled":
            await gw.sessions.revoke_all(conn, user_id, "account disabled")
        event = UserStatusChanged(
            user_id=user_id, status="disabled" if status == "disabled" else "active",
            changed_by=admin_id, changed_at=datetime.now(UTC),
        )  # fmt: skip
        await gw.outbox.add(conn, event, user_id)
        entry = origin.entry(f"user_{status}", "success", user_id)
        await gw.audit.add(conn, AuditEntry(**{**entry.__dict__, "actor_id": admin_id}))
    gw.access_changed(user_id)
    return user
