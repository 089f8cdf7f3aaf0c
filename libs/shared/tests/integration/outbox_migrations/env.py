"""Alembic environment: schema per service, version table inside it, advisory lock."""

from tradeloom.shared.migrations import run_env

run_env()
