"""Intraday lows: per scope and UTC day, the lowest change of equity since the previous close seen
during the day, and when (prop-firm breaches inside a day that recovers by the close).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".intraday_lows (
            scope text NOT NULL CHECK (scope IN ('account', 'bot')),
            scope_id text NOT NULL,
            day date NOT NULL,
            low_pnl numeric NOT NULL,
            low_at timestamptz NOT NULL,
            PRIMARY KEY (scope, scope_id, day))"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE IF EXISTS "{current_schema()}".intraday_lows')
