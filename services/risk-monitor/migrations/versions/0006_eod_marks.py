"""The marks kept at each end-of-day roll (``eod_marks``): the last trade price of each symbol an
account held when the roll first saw the trading day ended; the end-of-day balance values the
positions open at the close at these marks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".eod_marks (
            account_id text NOT NULL,
            trading_day date NOT NULL,
            symbol text NOT NULL,
            price numeric(38, 18) NOT NULL CHECK (price > 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, trading_day, symbol)
        )"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE "{current_schema()}".eod_marks')
