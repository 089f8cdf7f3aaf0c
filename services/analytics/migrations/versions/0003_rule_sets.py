"""Users' own prop-firm rule sets (presets are data shipped with the service, not rows).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".rule_sets (
            rule_set_id text PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            rules jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (user_id, name))"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE IF EXISTS "{current_schema()}".rule_sets')
