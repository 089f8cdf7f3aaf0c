"""User-code strategies: ``kind`` code, a version's ``code`` and a bot's copy of it.

A strategy of kind ``code`` (``template`` 'code') holds the user's Python source per version in
``strategy_versions.code`` (``params`` are the values handed to it); a bot of one keeps its own
copy of the pinned version's source in ``bots.code``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".strategies DROP CONSTRAINT strategies_kind_check')
    op.execute(
        f'ALTER TABLE "{s}".strategies ADD CONSTRAINT strategies_kind_check '
        "CHECK (kind IN ('template', 'graph', 'code'))"
    )
    op.execute(f'ALTER TABLE "{s}".strategy_versions ADD COLUMN code text')
    op.execute(f'ALTER TABLE "{s}".bots ADD COLUMN code text')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bots DROP COLUMN IF EXISTS code')
    op.execute(f'ALTER TABLE "{s}".strategy_versions DROP COLUMN IF EXISTS code')
    op.execute(f"DELETE FROM \"{s}\".strategies WHERE kind = 'code'")
    op.execute(f'ALTER TABLE "{s}".strategies DROP CONSTRAINT strategies_kind_check')
    op.execute(
        f'ALTER TABLE "{s}".strategies ADD CONSTRAINT strategies_kind_check '
        "CHECK (kind IN ('template', 'graph'))"
    )
