"""Leverage and margin mode per account and linear perpetual (``perp_settings``).

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
        f"""CREATE TABLE "{s}".perp_settings (
            account_id text NOT NULL,
            symbol text NOT NULL,
            user_id text NOT NULL,
            leverage numeric(38, 18) NOT NULL CHECK (leverage >= 1),
            margin_mode text NOT NULL CHECK (margin_mode IN ('isolated', 'cross')),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol)
        )"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE "{current_schema()}".perp_settings')
