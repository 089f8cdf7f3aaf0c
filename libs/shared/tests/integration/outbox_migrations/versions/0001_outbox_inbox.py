"""The service's schema with its transactional outbox and consumer inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from tradeloom.shared.migrations import create_outbox_and_inbox_sql, current_schema, drop_outbox_and_inbox_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in create_outbox_and_inbox_sql(current_schema()):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_and_inbox_sql(current_schema()):
        op.execute(statement)
