"""Schedule runs left ``running`` by a dead replica are retried: ``attempts`` per run, and an index
on the running ones (the only rows the stale-run sweep reads).

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
    op.execute(f'ALTER TABLE "{s}".schedule_runs ADD COLUMN attempts integer NOT NULL DEFAULT 1')
    op.execute(
        f'CREATE INDEX schedule_runs_running_idx ON "{s}".schedule_runs (started_at) '
        "WHERE outcome = 'running'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".schedule_runs_running_idx')
    op.execute(f'ALTER TABLE "{s}".schedule_runs DROP COLUMN IF EXISTS attempts')
