"""A bot's risk limits at risk-monitor that no bot may own: ``bot_limit_removals``.

A row names a bot id whose limits at risk-monitor must be removed unless the bot exists: written
(committed) before a create puts the limits and deleted in the bot's own insert transaction, or
written in the transaction that deletes the bot. A row left behind (the process killed between
the put and the insert, risk-monitor not answering the removal) is removed by the sweep
(``bots/limit_removals.py``; strategy-runner README, "A bot's own risk limits").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".bot_limit_removals (
            bot_id uuid PRIMARY KEY,
            user_id text NOT NULL,
            account_id text NOT NULL,
            reason text NOT NULL CHECK (reason IN ('create', 'delete')),
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".bot_limit_removals')
