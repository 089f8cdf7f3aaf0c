"""Paper perpetuals: an order's leverage and contract size, each account's perp positions and
the funding paid on them (once per account, symbol and funding time: the primary key).

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
            contract_size numeric NOT NULL CHECK (contract_size > 0),
            quantity numeric NOT NULL DEFAULT 0,
            entry_price numeric NOT NULL DEFAULT 0 CHECK (entry_price >= 0),
            margin numeric NOT NULL DEFAULT 0 CHECK (margin >= 0),
            realised_pnl numeric NOT NULL DEFAULT 0,
            funding numeric NOT NULL DEFAULT 0,
            funded_through_ns bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol))"""
    )
    op.execute(
        f"""CREATE TABLE "{s}".perp_fundings (
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            symbol text NOT NULL,
            funding_time_ns bigint NOT NULL,
            quantity numeric NOT NULL,
            rate numeric NOT NULL,
            mark_price numeric NOT NULL,
            amount numeric NOT NULL,
            paid_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol, funding_time_ns))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".perp_fundings')
    op.execute(f'DROP TABLE "{s}".perp_positions')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN contract_size')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN leverage')
