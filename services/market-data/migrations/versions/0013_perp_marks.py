"""The newest mark price and funding schedule a ccxt venue gave per perpetual.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".perp_marks (
            venue text NOT NULL,
            symbol text NOT NULL,
            mark_price numeric NOT NULL CHECK (mark_price > 0),
            index_price numeric,
            last_funding_rate numeric,
            next_funding_time_ns bigint NOT NULL,
            funding_interval_s integer NOT NULL CHECK (funding_interval_s > 0),
            ts_ns bigint NOT NULL,
            PRIMARY KEY (venue, symbol))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".perp_marks')
