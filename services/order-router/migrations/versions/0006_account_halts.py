"""Halts of one account (risk-monitor's ``account_halt``): scope ``account``, keyed by the account id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".halts DROP CONSTRAINT halts_scope_check')
    op.execute(
        f'ALTER TABLE "{s}".halts ADD CONSTRAINT halts_scope_check '
        "CHECK (scope IN ('user', 'global', 'account'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".halts WHERE scope = 'account'")
    op.execute(f'ALTER TABLE "{s}".halts DROP CONSTRAINT halts_scope_check')
    op.execute(
        f"ALTER TABLE \"{s}\".halts ADD CONSTRAINT halts_scope_check CHECK (scope IN ('user', 'global'))"
    )
