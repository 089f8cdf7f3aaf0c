"""Users, credentials, refresh-token families, API keys, preferences, audit log, rate limits, idempotency.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "idempotency_keys",
    "login_failures",
    "rate_limit_buckets",
    "audit_log",
    "preferences",
    "api_keys",
    "refresh_tokens",
    "refresh_families",
    "credentials",
    "users",
)


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".users (
            id uuid PRIMARY KEY,
            email text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
            display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
            role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
            tokens_valid_after timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz)""",
        f"""CREATE TABLE "{s}".credentials (
            user_id uuid PRIMARY KEY REFERENCES "{s}".users (id) ON DELETE CASCADE,
            password_hash text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE "{s}".refresh_families (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES "{s}".users (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz NOT NULL DEFAULT now(),
            ip text,
            user_agent text,
            revoked_at timestamptz,
            revoked_reason text)""",
        f'CREATE INDEX refresh_families_user ON "{s}".refresh_families (user_id, id DESC)',
        f"""CREATE TABLE "{s}".refresh_tokens (
            token_hash bytea PRIMARY KEY,
            family_id uuid NOT NULL REFERENCES "{s}".refresh_families (id) ON DELETE CASCADE,
            issued_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            rotated_at timestamptz)""",
        f'CREATE INDEX refresh_tokens_family ON "{s}".refresh_tokens (family_id)',
        f"""CREATE TABLE "{s}".api_keys (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES "{s}".users (id) ON DELETE CASCADE,
            key_id text NOT NULL UNIQUE,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            secret_hash bytea NOT NULL,
            scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'trade']::text[]),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            revoked_at timestamptz,
            last_used_at timestamptz)""",
        f'CREATE INDEX api_keys_user ON "{s}".api_keys (user_id, id DESC)',
        f"""CREATE TABLE "{s}".preferences (
            user_id uuid PRIMARY KEY REFERENCES "{s}".users (id) ON DELETE CASCADE,
            data jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE "{s}".audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            user_id uuid,
            actor_id uuid,
            action text NOT NULL,
            outcome text NOT NULL,
            ip text,
            request_id text,
            details jsonb NOT NULL DEFAULT '{{}}'::jsonb)""",
        f'CREATE INDEX audit_log_user ON "{s}".audit_log (user_id, id DESC)',
        f"""CREATE UNLOGGED TABLE "{s}".rate_limit_buckets (
            key text PRIMARY KEY,
            tokens double precision NOT NULL,
            capacity double precision NOT NULL,
            per_s double precision NOT NULL,
            updated_at timestamptz NOT NULL)""",
        f'CREATE INDEX rate_limit_buckets_updated ON "{s}".rate_limit_buckets (updated_at)',
        f"""CREATE TABLE "{s}".login_failures (
            key text PRIMARY KEY,
            failures integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE "{s}".idempotency_keys (
            user_id uuid NOT NULL,
            key text NOT NULL,
            method text NOT NULL,
            path text NOT NULL,
            fingerprint bytea NOT NULL,
            status_code integer,
            response jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, key))""",
        f'CREATE INDEX idempotency_keys_created ON "{s}".idempotency_keys (created_at)',
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in TABLES:
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
