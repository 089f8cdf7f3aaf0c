"""A bot's own risk limits: ``bots.risk_limits`` (jsonb, null: none).

The limits themselves live in risk-monitor (its ``limits`` keyed by user, account and bot), which
measures the bot's orders against them; this column is strategy-runner's copy of what it
registered there at create, so a bot's view shows them without a call and a delete knows there
are limits to remove (strategy-runner README, "A bot's own risk limits").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bots ADD COLUMN risk_limits jsonb')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bots DROP COLUMN risk_limits')
