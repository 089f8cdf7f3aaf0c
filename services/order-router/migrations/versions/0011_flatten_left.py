"""Flattens: what a flatten left open (dust and the like), reported in ``flatten_completed``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f"""ALTER TABLE "{s}".flattens ADD COLUMN left_open jsonb NOT NULL DEFAULT '[]'""")


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".flattens DROP COLUMN left_open')
