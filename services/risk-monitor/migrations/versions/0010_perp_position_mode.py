"""Hedge position mode: ``perp_settings.position_mode`` (one_way | hedge) per account and perpetual,
and its changes audited in ``limit_changes`` (action ``perp_settings``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"ALTER TABLE \"{s}\".perp_settings ADD COLUMN position_mode text NOT NULL DEFAULT 'one_way' "
        "CHECK (position_mode IN ('one_way', 'hedge'))"
    )
    op.execute(f'ALTER TABLE "{s}".limit_changes DROP CONSTRAINT limit_changes_action_check')
    op.execute(
        f'ALTER TABLE "{s}".limit_changes ADD CONSTRAINT limit_changes_action_check '
        "CHECK (action IN ('put', 'delete', 'perp_settings'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".limit_changes WHERE action = 'perp_settings'")
    op.execute(f'ALTER TABLE "{s}".limit_changes DROP CONSTRAINT limit_changes_action_check')
    op.execute(
        f'ALTER TABLE "{s}".limit_changes ADD CONSTRAINT limit_changes_action_check '
        "CHECK (action IN ('put', 'delete'))"
    )
    op.execute(f'ALTER TABLE "{s}".perp_settings DROP COLUMN position_mode')
