"""Flattens: risk-monitor's ``risk.evt.flatten`` acted on once per event, and its close orders.

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
    op.execute(
        f"""CREATE TABLE "{s}".flattens (
            id text PRIMARY KEY,
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            user_id text NOT NULL,
            reason text NOT NULL DEFAULT '',
            status text NOT NULL CHECK (status IN ('closing', 'completed')),
            outcome text,
            created_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz)"""
    )
    op.execute(f'ALTER TABLE "{s}".orders ADD COLUMN flatten_id text REFERENCES "{s}".flattens (id)')
    op.execute(f'CREATE INDEX orders_flatten_idx ON "{s}".orders (flatten_id) WHERE flatten_id IS NOT NULL')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN flatten_id')
    op.execute(f'DROP TABLE "{s}".flattens')
