"""Gaps per ingested (venue, symbol): how many the live source detected and the last one's span.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".subscription_gaps (
            venue text NOT NULL,
            symbol text NOT NULL,
            gap_count bigint NOT NULL CHECK (gap_count > 0),
            missing_trades bigint NOT NULL DEFAULT 0,
            last_gap_from_ns bigint NOT NULL,
            last_gap_to_ns bigint NOT NULL,
            last_gap_reason text NOT NULL,
            last_gap_missing bigint,
            PRIMARY KEY (venue, symbol))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".subscription_gaps')
