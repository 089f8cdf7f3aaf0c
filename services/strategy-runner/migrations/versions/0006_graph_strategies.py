"""Builder-graph strategies: a strategy's ``kind`` and a version's ``graph``.

``kind`` is ``template`` (a built-in with ``params``, as before: the default for existing rows) or
``graph`` (each version holds a builder graph in ``graph``, ``params`` empty, ``template`` 'graph').
A bot of a graph strategy keeps its own copy of the pinned version's graph in ``bots.graph``.

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
    op.execute(
        f"ALTER TABLE \"{s}\".strategies ADD COLUMN kind text NOT NULL DEFAULT 'template' "
        "CONSTRAINT strategies_kind_check CHECK (kind IN ('template', 'graph'))"
    )
    op.execute(f'ALTER TABLE "{s}".strategy_versions ADD COLUMN graph jsonb')
    op.execute(f'ALTER TABLE "{s}".bots ADD COLUMN graph jsonb')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bots DROP COLUMN IF EXISTS graph')
    op.execute(f'ALTER TABLE "{s}".strategy_versions DROP COLUMN IF EXISTS graph')
    op.execute(f'ALTER TABLE "{s}".strategies DROP COLUMN IF EXISTS kind')
