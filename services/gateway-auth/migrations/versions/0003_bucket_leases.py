"""Rate-limit leases: a bucket row remembers how many tokens its last statement granted.

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
    op.execute(
        f'ALTER TABLE "{current_schema()}".rate_limit_buckets '
        "ADD COLUMN granted double precision NOT NULL DEFAULT 0"
    )


def downgrade() -> None:
    op.execute(f'ALTER TABLE "{current_schema()}".rate_limit_buckets DROP COLUMN granted')
