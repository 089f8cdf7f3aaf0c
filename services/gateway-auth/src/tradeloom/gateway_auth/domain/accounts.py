"""Accounts: email rules, user status, preferences with defaults and partial updates."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
MAX_EMAIL = 254


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; raises ValueError naming the problem."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        raise ValueError("is not a valid email address")
    return email


DEFAULT_PREFERENCES: dict[str, Any] = {
    "mode": "beginner",
    "timezone": "UTC",
    "default_account_id": None,
    "onboarding_completed": False,
    "notifications": {"email": True, "push": False, "fills": True, "alerts": True, "digest": "daily"},
    "ui": {"theme": "system", "language": "en", "density": "comfortable"},
}


def merge_preferences(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7396 flavour): nested objects merge, ``None`` resets to the default."""
    merged = {**current}
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_preferences(merged[key], value)
        elif value is None:  # null resets the field (or the whole group) to its default
            default = DEFAULT_PREFERENCES.get(key)
            merged[key] = dict(default) if isinstance(default, dict) else default
        else:
            merged[key] = value
    return merged


def with_defaults(stored: dict[str, Any] | None) -> dict[str, Any]:
    return merge_preferences(DEFAULT_PREFERENCES, stored or {})
