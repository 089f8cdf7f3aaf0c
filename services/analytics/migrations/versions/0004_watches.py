"""Watched prop-firm evaluations: the rules as they were when watched, and the last status announced.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".evaluations (
            evaluation_id text PRIMARY KEY,
            user_id text NOT NULL,
            scope text NOT NULL CHECK (scope IN ('account', 'bot')),
            scope_id text NOT NULL,
            rule_set_id text NOT NULL,
            rules jsonb NOT NULL,
            start_day date,
            status text NOT NULL CHECK (status IN ('passed', 'failed', 'in_progress')),
            failed_on date,
            passed_on date,
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (user_id, scope, scope_id, rule_set_id))"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE IF EXISTS "{current_schema()}".evaluations')
