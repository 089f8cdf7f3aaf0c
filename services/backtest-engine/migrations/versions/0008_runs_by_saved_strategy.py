"""Runs of one saved strategy are listed (and counted) by ``strategy_id``: an index for that.

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
        f'CREATE INDEX runs_user_strategy ON "{s}".runs (user_id, strategy_id, backtest_id DESC) '
        "WHERE strategy_id IS NOT NULL"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".runs_user_strategy')
