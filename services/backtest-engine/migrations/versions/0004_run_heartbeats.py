"""A heartbeat on runs, so that the sweeper can fail runs whose worker was lost; series stored
without compression attempts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".runs ADD COLUMN heartbeat_at timestamptz')
    op.execute(
        f'COMMENT ON COLUMN "{s}".runs.heartbeat_at IS '
        "'last time a worker recorded that it is still running this run (database clock)'"
    )
    op.execute(
        f'CREATE INDEX runs_active ON "{s}".runs (status, heartbeat_at) '
        "WHERE status IN ('queued', 'running')"
    )
    # float64/int64 arrays barely compress: storing them out of line uncompressed saves the pglz
    # attempt on every insert (about half the insert time of a 100,000-bar series)
    op.execute(
        f'ALTER TABLE "{s}".series ALTER COLUMN time_ns SET STORAGE EXTERNAL, '
        "ALTER COLUMN equity SET STORAGE EXTERNAL"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".series ALTER COLUMN time_ns SET STORAGE EXTENDED, '
        "ALTER COLUMN equity SET STORAGE EXTENDED"
    )
    op.execute(f'DROP INDEX IF EXISTS "{s}".runs_active')
    op.execute(f'ALTER TABLE "{s}".runs DROP COLUMN IF EXISTS heartbeat_at')
