"""Results say how they were annualised (bars per year inferred from the data or requested).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".results ADD COLUMN annualisation jsonb')
    op.execute(
        f'COMMENT ON COLUMN "{s}".results.annualisation IS '
        "'periods_per_year, source (inferred/request), calendar years, year_days, bar_ns; "
        "null: stored before 0006'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".results DROP COLUMN annualisation')
