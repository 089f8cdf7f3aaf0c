"""Runs remember the saved strategy and version they ran (strategy-runner's), when they used one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".runs ADD COLUMN strategy_id text, ADD COLUMN strategy_version integer')
    op.execute(
        f'COMMENT ON COLUMN "{s}".runs.strategy_id IS '
        "'the saved strategy (strategy-runner) whose version was resolved at submit; null: a built-in'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".runs DROP COLUMN strategy_id, DROP COLUMN strategy_version')
