"""Series keep the position (signed units) and gross exposure (|position| × close) of every bar.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".series ADD COLUMN position bytea, ADD COLUMN exposure bytea')
    for column in ("position", "exposure"):  # like equity: out of line, no compression attempt
        op.execute(f'ALTER TABLE "{s}".series ALTER COLUMN {column} SET STORAGE EXTERNAL')
    op.execute(
        f'COMMENT ON COLUMN "{s}".series.exposure IS '
        "'gross exposure |position| × close per bar (little-endian float64); null: stored before 0009'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".series DROP COLUMN position, DROP COLUMN exposure')
