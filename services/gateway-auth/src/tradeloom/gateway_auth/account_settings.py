"""Changes users make to their own account besides credentials: profile, preferences, API keys'
name, scopes and expiry. Each change is written to the audit log in the transaction that makes it
(the entry names the fields changed, not their values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tradeloom.gateway_auth.accounts import Origin
from tradeloom.gateway_auth.domain.accounts import merge_preferences
from tradeloom.gateway_auth.domain.scopes import Principal
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.schemas import ApiKeyPatch
from tradeloom.gateway_auth.store.api_keys import ApiKeyRow
from tradeloom.gateway_auth.store.users import UserRow
from tradeloom.shared.errors import Conflict, NotFound, Unauthorized


async def update_profile(gw: Gateway, user_id: str, display_name: str | None, origin: Origin) -> UserRow:
    if display_name is None:  # nothing to change
        user = await gw.users.get(user_id)
    else:
        async with gw.engine.begin() as conn:
            user = await gw.users.update_profile(conn, user_id, display_name)
            if user is not None:
                entry = origin.entry("profile_updated", "success", user_id, fields=["display_name"])
                await gw.audit.add(conn, entry)
        gw.auth_cache.clear()  # the profile changed, not the access: sockets need no re-check
    if user is None:
        raise Unauthorized("the account no longer exists")
    return user


async def update_preferences(
    gw: Gateway, user_id: str, patch: dict[str, Any], origin: Origin
) -> dict[str, Any]:
    """Merge ``patch`` (only the fields sent; nested groups merge) over the stored overrides."""
    async with gw.engine.begin() as conn:
        stored = await gw.users.preferences(user_id, conn)  # locked until the merge is saved
        merged = merge_preferences(stored, patch)
        await gw.users.save_preferences(conn, user_id, merged)
        entry = origin.entry("preferences_updated", "success", user_id, fields=sorted(patch))
        await gw.audit.add(conn, entry)
    return merged


def check_key_scopes(principal: Principal, scopes: Sequence[str]) -> list[str]:
    """The scopes of a key, sorted and unique; 422 if they exceed the caller's own."""
    wanted = sorted(set(scopes))
    if not set(wanted) <= {scope.value for scope in principal.scopes}:
        raise field_error("body.scopes", "cannot exceed your own scopes", code="scope_not_allowed")
    return wanted


async def update_api_key(
    gw: Gateway, principal: Principal, key_uuid: str, patch: ApiKeyPatch, origin: Origin
) -> ApiKeyRow:
    """Rename a key, change its scopes (never beyond the caller's own) or its expiry, keeping its
    secret. Someone else's or an unknown key is 404; a revoked key cannot change (409)."""
    sent = patch.model_fields_set
    scopes = check_key_scopes(principal, patch.scopes) if patch.scopes is not None else None
    user_id = principal.user_id
    async with gw.engine.begin() as conn:
        row = await gw.api_keys.update(
            conn,
            user_id,
            key_uuid,
            name=patch.name,
            scopes=scopes,
            expires_at=patch.expires_at,
            set_expiry="expires_at" in sent,
        )
        if row is not None and sent:
            entry = origin.entry(
                "api_key_updated", "success", user_id, api_key_id=row.id, fields=sorted(sent)
            )
            await gw.audit.add(conn, entry)
    if row is None:
        if await gw.api_keys.get(user_id, key_uuid) is None:
            raise NotFound("no such API key")
        raise Conflict("the API key is revoked; create a new one", code="api_key_revoked")
    gw.access_changed(user_id)  # cached key scopes/expiry; open sockets re-check their key now
    return row
