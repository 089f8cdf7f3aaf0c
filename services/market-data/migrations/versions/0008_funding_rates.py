"""Funding-rate history of perpetual instruments (with the mark price at each funding time).

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
    op.execute(
        f"""CREATE TABLE "{s}".funding_rates (
            venue text NOT NULL,
            symbol text NOT NULL,
            funding_time_ns bigint NOT NULL,
            rate numeric NOT NULL,
            mark_price numeric NOT NULL CHECK (mark_price > 0),
            source text NOT NULL,
            PRIMARY KEY (venue, symbol, funding_time_ns))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".funding_rates')
