"""An upload says what its file is: ``csv`` (text chunks) or ``parquet`` (base64 text chunks).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"ALTER TABLE \"{s}\".dataset_uploads ADD COLUMN format text NOT NULL DEFAULT 'csv' "
        "CHECK (format IN ('csv', 'parquet'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".dataset_uploads DROP COLUMN IF EXISTS format')
