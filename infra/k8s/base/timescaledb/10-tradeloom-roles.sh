#!/bin/sh
# Runs once, when the TimescaleDB data directory is first initialised (docker-entrypoint-initdb.d).
# Creates one login role tl_<pkg> and one schema owned by it per Tradeloom service (the schema is
# <pkg>, except gateway-auth's, which DESIGN.md names `gateway`); the
# passwords come from the environment (TL_<PKG>_DB_PASSWORD, from the tradeloom-secrets Secret in
# Kubernetes, from infra/compose/.env in Compose). Re-running it is safe: it only updates passwords.
# Used by infra/k8s/base/timescaledb and by infra/compose/docker-compose.yml.
set -eu
db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
for pkg in gateway_auth market_data order_router risk_monitor backtest_engine analytics \
           sandbox_executor strategy_runner; do
  var="TL_$(printf '%s' "$pkg" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  eval "password=\${$var:-}"
  schema="$pkg"
  [ "$pkg" = gateway_auth ] && schema=gateway
  if [ -z "$password" ]; then
    echo "10-tradeloom-roles: $var is not set" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "$db" \
    -v role="tl_$pkg" -v schema="$schema" -v password="$password" -v db="$db" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'role', :'password') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'role') \gexec
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'role') \gexec
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'schema') \gexec
SELECT format('ALTER ROLE %I SET search_path = %I, public', :'role', :'schema') \gexec
SQL
done
# Nobody but the roles above (and the superuser) may connect; nobody creates objects in public.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "$db" -v db="$db" <<'SQL'
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', :'db') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
