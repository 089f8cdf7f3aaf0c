"""Schedule runs keep what the new actions produced: the market-data import job a
``market_import`` queued, and the performance report a ``report`` stored.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".schedule_runs ADD COLUMN import_id text, ADD COLUMN report jsonb')


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".schedule_runs DROP COLUMN IF EXISTS report, DROP COLUMN IF EXISTS import_id'
    )
