"""How each flatten ended (order-router's ``orders.evt.flatten_completed``), for the halt view.

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
        f"""CREATE TABLE "{s}".flatten_results (
            flatten_id text PRIMARY KEY,
            account_id text NOT NULL,
            user_id text NOT NULL,
            reason text NOT NULL,
            outcome text NOT NULL,
            orders jsonb NOT NULL,
            left_open jsonb NOT NULL,
            completed_at timestamptz NOT NULL)"""
    )
    op.execute(
        f'CREATE INDEX flatten_results_account_idx ON "{s}".flatten_results (account_id, completed_at)'
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".flatten_results')
