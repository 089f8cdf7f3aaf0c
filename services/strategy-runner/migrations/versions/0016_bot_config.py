"""Live bots' configuration updates: the one a running bot's next start runs, and their history.

``bots.pending_config`` (jsonb: strategy_version, template, params, graph, code, timeframe, sizing,
max_position) is set by ``bots_update`` while the bot runs or is paused and applied by its next
start; ``bot_config_changes`` keeps every change (who, what: field → old and new, and when it
applies: ``now``, ``next_start``, or ``started`` for a pending one applied by a start).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    for statement in (
        f'ALTER TABLE "{s}".bots ADD COLUMN pending_config jsonb',
        f"""CREATE TABLE "{s}".bot_config_changes (
            id bigserial PRIMARY KEY,
            bot_id uuid NOT NULL REFERENCES "{s}".bots (id) ON DELETE CASCADE,
            user_id text NOT NULL,
            changes jsonb NOT NULL,
            effective text NOT NULL CHECK (effective IN ('now', 'next_start', 'started')),
            created_at timestamptz NOT NULL DEFAULT now()
        )""",
        f'CREATE INDEX bot_config_changes_bot_idx ON "{s}".bot_config_changes (bot_id, id DESC)',
    ):
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".bot_config_changes')
    op.execute(f'ALTER TABLE "{s}".bots DROP COLUMN pending_config')
