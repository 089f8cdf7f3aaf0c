"""Account rows as the public API shows them (shared by the users, admin and auth routes)."""

from __future__ import annotations

from tradeloom.gateway_auth.schemas import AuditOut, UserOut
from tradeloom.gateway_auth.store.audit import AuditRow
from tradeloom.gateway_auth.store.users import UserRow


def user_out(user: UserRow) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        status=user.status,
        created_at=user.created_at,
    )


def audit_out(row: AuditRow) -> AuditOut:
    return AuditOut(**row.__dict__)
