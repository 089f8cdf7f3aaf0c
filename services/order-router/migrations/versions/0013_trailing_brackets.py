"""Trailing brackets: a bracket entry's stop leg as a trailing stop (percent or amount) instead of
a stop-loss price; once the entry fills it rests with the take-profit as one OCO pair.

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
        f'ALTER TABLE "{s}".orders ADD COLUMN trailing_stop_amount numeric(38, 18), '
        "ADD COLUMN trailing_stop_percent numeric(38, 18)"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".orders DROP COLUMN trailing_stop_percent, DROP COLUMN trailing_stop_amount'
    )
