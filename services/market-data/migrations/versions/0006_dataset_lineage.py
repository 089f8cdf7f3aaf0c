"""Preprocessed datasets: where each came from (``lineage``) and its derived float columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".datasets ADD COLUMN lineage jsonb')
    op.execute(
        f"""CREATE TABLE "{s}".dataset_columns (
            dataset_id uuid NOT NULL REFERENCES "{s}".datasets ON DELETE CASCADE,
            position integer NOT NULL, name text NOT NULL, "values" float8[] NOT NULL,
            PRIMARY KEY (dataset_id, name))"""
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".dataset_columns')
    op.execute(f'ALTER TABLE "{s}".datasets DROP COLUMN IF EXISTS lineage')
