"""Ingestion subscriptions started through the API (one row per venue and symbol).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".subscriptions (
            venue text NOT NULL,
            symbol text NOT NULL,
            books boolean NOT NULL,
            desired text NOT NULL CHECK (desired IN ('running', 'stopped')),
            status text NOT NULL CHECK (status IN ('pending', 'running', 'stopped', 'failed')),
            error text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            status_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (venue, symbol))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".subscriptions')
