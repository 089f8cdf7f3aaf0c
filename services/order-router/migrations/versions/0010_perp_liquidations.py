"""Liquidations of paper perp positions, once per account, symbol and position (the primary key),
the time each position opened from flat (``perp_positions.opened_ns``: the position's id) and the
margin mode (risk-monitor's ``perp_settings``, read at submit) on orders and positions.

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
    op.execute(f'ALTER TABLE "{s}".perp_positions ADD COLUMN opened_ns bigint NOT NULL DEFAULT 0')
    op.execute(
        f"ALTER TABLE \"{s}\".perp_positions ADD COLUMN margin_mode text NOT NULL DEFAULT 'isolated' "
        "CHECK (margin_mode IN ('isolated', 'cross'))"
    )
    op.execute(
        f"ALTER TABLE \"{s}\".orders ADD COLUMN margin_mode text CHECK (margin_mode IN ('isolated', 'cross'))"
    )
    op.execute(
        f"""CREATE TABLE "{s}".perp_liquidations (
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            symbol text NOT NULL,
            opened_ns bigint NOT NULL,
            quantity numeric NOT NULL,
            entry_price numeric NOT NULL,
            margin numeric NOT NULL,
            price numeric NOT NULL,
            mark_price numeric NOT NULL,
            realised_pnl numeric NOT NULL,
            fee numeric NOT NULL CHECK (fee >= 0),
            liquidated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol, opened_ns))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".perp_liquidations')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN margin_mode')
    op.execute(f'ALTER TABLE "{s}".perp_positions DROP COLUMN margin_mode')
    op.execute(f'ALTER TABLE "{s}".perp_positions DROP COLUMN opened_ns')
