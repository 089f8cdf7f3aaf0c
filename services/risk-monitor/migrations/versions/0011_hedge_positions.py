"""Hedge position mode: a position per side. ``position_side`` ('' = one-way, 'long', 'short') on
``fills`` and in the primary keys of ``positions`` and ``perp_funding`` (the long and the short of
one symbol fold, and are funded, each on its own).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SIDE = "text NOT NULL DEFAULT '' CHECK (position_side IN ('', 'long', 'short'))"
KEYED = (("positions", "account_id, symbol, bot_id"), ("perp_funding", "account_id, symbol, funding_time_ns"))


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".fills ADD COLUMN position_side {SIDE}')
    for table, key in KEYED:
        op.execute(f'ALTER TABLE "{s}".{table} ADD COLUMN position_side {SIDE}')
        op.execute(f'ALTER TABLE "{s}".{table} DROP CONSTRAINT {table}_pkey')
        op.execute(f'ALTER TABLE "{s}".{table} ADD PRIMARY KEY ({key}, position_side)')


def downgrade() -> None:
    s = current_schema()
    for table, key in KEYED:
        op.execute(f"DELETE FROM \"{s}\".{table} WHERE position_side <> ''")
        op.execute(f'ALTER TABLE "{s}".{table} DROP CONSTRAINT {table}_pkey')
        op.execute(f'ALTER TABLE "{s}".{table} ADD PRIMARY KEY ({key})')
        op.execute(f'ALTER TABLE "{s}".{table} DROP COLUMN position_side')
    op.execute(f"DELETE FROM \"{s}\".fills WHERE position_side <> ''")
    op.execute(f'ALTER TABLE "{s}".fills DROP COLUMN position_side')
