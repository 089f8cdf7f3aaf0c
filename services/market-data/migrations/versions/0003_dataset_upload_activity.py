"""Uploads in progress remember their last activity, so abandoned ones can be pruned.

``last_activity_at`` is set at begin and on every chunk; the prune task deletes uploads idle
longer than ``DATASET_UPLOAD_TTL_S`` (their chunks go with them, ON DELETE CASCADE).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".dataset_uploads ADD COLUMN last_activity_at timestamptz NOT NULL DEFAULT now()'
    )
    op.execute(f'UPDATE "{s}".dataset_uploads SET last_activity_at = created_at')
    op.execute(f'CREATE INDEX dataset_uploads_last_activity ON "{s}".dataset_uploads (last_activity_at)')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".dataset_uploads_last_activity')
    op.execute(f'ALTER TABLE "{s}".dataset_uploads DROP COLUMN IF EXISTS last_activity_at')
