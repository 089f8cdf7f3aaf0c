"""Option Greeks limits: max net delta and max net vega (``limits``).

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
        f'ALTER TABLE "{s}".limits ADD COLUMN max_net_delta numeric(38, 18), '
        "ADD COLUMN max_net_vega numeric(38, 18)"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".limits DROP COLUMN max_net_delta, DROP COLUMN max_net_vega')
