"""Paper perpetuals: an order's leverage and contract size, and each account's perp positions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".orders ADD COLUMN leverage numeric CHECK (leverage > 0)')
    op.execute(f'ALTER TABLE "{s}".orders ADD COLUMN contract_size numeric CHECK (contract_size > 0)')
    op.execute(
        f"""CREATE TABLE "{s}".perp_positions (
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            symbol text NOT NULL,
            settle_asset text NOT NULL,
            quantity numeric NOT NULL DEFAULT 0,
            entry_price numeric NOT NULL DEFAULT 0 CHECK (entry_price >= 0),
            margin numeric NOT NULL DEFAULT 0 CHECK (margin >= 0),
            realised_pnl numeric NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".perp_positions')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN contract_size')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN leverage')
