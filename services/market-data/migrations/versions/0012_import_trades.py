"""Imports of trades (``imports.kind`` 'trades') beside 1-minute candles.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".imports DROP CONSTRAINT imports_kind_check')
    op.execute(
        f"ALTER TABLE \"{s}\".imports ADD CONSTRAINT imports_kind_check CHECK (kind IN ('candles', 'trades'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"""DELETE FROM "{s}".imports WHERE kind = 'trades'""")
    op.execute(f'ALTER TABLE "{s}".imports DROP CONSTRAINT imports_kind_check')
    op.execute(f"""ALTER TABLE "{s}".imports ADD CONSTRAINT imports_kind_check CHECK (kind IN ('candles'))""")
