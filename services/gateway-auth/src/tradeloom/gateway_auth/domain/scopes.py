"""Roles and scopes: who may do what.

A session (JWT from a login) has every scope its role allows. An API key has only the scopes it
was created with, never ``admin``, and cannot manage credentials (keys, password, sessions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Scope(StrEnum):
    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


API_KEY_SCOPES = frozenset({Scope.READ, Scope.TRADE})  # admin never


def session_scopes(role: Role) -> frozenset[Scope]:
    return frozenset({Scope.READ, Scope.TRADE} | ({Scope.ADMIN} if role is Role.ADMIN else set()))


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user_id: str
    role: Role
    scopes: frozenset[Scope]
    via: str  # "session" or "api_key"
    session_id: str | None = None
    api_key_id: str | None = None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.role.value})

    def missing(self, scope: Scope) -> bool:
        return scope not in self.scopes
