"""The newest option quotes a ccxt venue gave (one row per option, replaced by each import).

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


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".venue_option_quotes (
            venue text NOT NULL,
            symbol text NOT NULL,
            underlying text NOT NULL,
            bid numeric CHECK (bid >= 0),
            ask numeric CHECK (ask >= 0),
            last numeric CHECK (last >= 0),
            mark numeric CHECK (mark >= 0),
            bid_iv double precision,
            ask_iv double precision,
            mark_iv double precision,
            delta double precision,
            gamma double precision,
            theta double precision,
            vega double precision,
            underlying_price numeric CHECK (underlying_price > 0),
            ts_ns bigint NOT NULL,
            PRIMARY KEY (venue, symbol))"""
    )
    op.execute(
        f'CREATE INDEX venue_option_quotes_underlying ON "{s}".venue_option_quotes (venue, underlying)'
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".venue_option_quotes')
