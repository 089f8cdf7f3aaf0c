"""Hedge position mode: ``perp_settings.position_mode`` (one_way | hedge) per account and perpetual,
and every change of a perpetual's settings audited in ``perp_settings_changes``.

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
    op.execute(
        f"""CREATE TABLE "{s}".perp_settings_changes (
            id bigserial PRIMARY KEY,
            user_id text NOT NULL,
            account_id text NOT NULL,
            symbol text NOT NULL,
            changed_by text NOT NULL,
            old_values jsonb,
            new_values jsonb NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now())"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".perp_settings_changes')
    op.execute(f'ALTER TABLE "{s}".perp_settings DROP COLUMN position_mode')
