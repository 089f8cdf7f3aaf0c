"""Results keep named diagnostic counters (the strategy's events, the simulator's entries and
daily-limit hits).

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
    op.execute(f'ALTER TABLE "{s}".results ADD COLUMN counters jsonb')
    op.execute(
        f'COMMENT ON COLUMN "{s}".results.counters IS '
        "'name → count: the strategy''s events and the simulator''s (entries, daily_limit_hits); "
        "null: stored before 0010'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".results DROP COLUMN counters')
