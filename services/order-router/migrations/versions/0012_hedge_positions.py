"""Hedge position mode on paper perpetuals: an order's ``position_side`` (long | short, null in
one-way mode), and a position per side: ``position_side`` ('' = one-way, 'long', 'short') joins the
primary keys of ``perp_positions``, ``perp_fundings`` and ``perp_liquidations`` (their idempotency
keys), so a long and a short on one symbol are funded and liquidated each on its own.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = (
    ("perp_positions", "account_id, symbol"),
    ("perp_fundings", "account_id, symbol, funding_time_ns"),
    ("perp_liquidations", "account_id, symbol, opened_ns"),
)


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"ALTER TABLE \"{s}\".orders ADD COLUMN position_side text CHECK (position_side IN ('long', 'short'))"
    )
    for table, key in TABLES:
        op.execute(
            f"ALTER TABLE \"{s}\".{table} ADD COLUMN position_side text NOT NULL DEFAULT '' "
            "CHECK (position_side IN ('', 'long', 'short'))"
        )
        op.execute(f'ALTER TABLE "{s}".{table} DROP CONSTRAINT {table}_pkey')
        op.execute(f'ALTER TABLE "{s}".{table} ADD PRIMARY KEY ({key}, position_side)')


def downgrade() -> None:
    s = current_schema()
    for table, key in TABLES:
        op.execute(f"DELETE FROM \"{s}\".{table} WHERE position_side <> ''")
        op.execute(f'ALTER TABLE "{s}".{table} DROP CONSTRAINT {table}_pkey')
        op.execute(f'ALTER TABLE "{s}".{table} ADD PRIMARY KEY ({key})')
        op.execute(f'ALTER TABLE "{s}".{table} DROP COLUMN position_side')
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN position_side')
