"""Bots stopped in error: one alert per episode.

``bot_errors`` keeps per bot (from strategy-runner's ``strategy.evt.bot_status``) the number of its
error episodes and whether the last one is open: an ``error`` status opens the next episode (and
its one alert) only when none is open; the bot running again closes it.

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
    op.execute(
        f"""CREATE TABLE "{s}".bot_errors (
            bot_id text PRIMARY KEY,
            user_id text NOT NULL,
            episode integer NOT NULL,
            open boolean NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".bot_errors')
