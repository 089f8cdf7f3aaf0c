"""A dataset remembers the request that made it, so a retried upload finds it instead of failing.

``request_key`` is the client's ``Idempotency-Key`` (given to ``datasets_upload_begin``, kept on the
upload and then on the dataset). An upload whose commit outlived the gateway's deadline still
stores its dataset; the retry with the same key then gets that dataset back from begin. Unique per
owner when set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".dataset_uploads ADD COLUMN request_key text')
    op.execute(f'ALTER TABLE "{s}".datasets ADD COLUMN request_key text')
    op.execute(
        f'CREATE UNIQUE INDEX datasets_owner_request_key ON "{s}".datasets (owner, request_key) '
        "WHERE request_key IS NOT NULL"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".datasets_owner_request_key')
    op.execute(f'ALTER TABLE "{s}".datasets DROP COLUMN IF EXISTS request_key')
    op.execute(f'ALTER TABLE "{s}".dataset_uploads DROP COLUMN IF EXISTS request_key')
