"""Funding payments of perpetual positions (``orders.evt.funding_paid``), once per account, symbol
and funding time; they count in the position's realised PnL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".perp_funding (
            account_id text NOT NULL,
            symbol text NOT NULL,
            funding_time_ns bigint NOT NULL,
            amount numeric NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol, funding_time_ns))"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE "{current_schema()}".perp_funding')
