#!/bin/sh
# Create the tradeloom-secrets Secret with fresh random passwords (never stored in git).
#   infra/k8s/create-secrets.sh [namespace]        (default namespace: tradeloom)
# Keys: POSTGRES_PASSWORD, TL_<PKG>_DB_PASSWORD (read by TimescaleDB's init script) and
# TL_<PKG>_DATABASE_URL (mounted as a file into each service, read through TL_SECRETS_DIR),
# TL_GATEWAY_AUTH_JWT_SECRET (the gateway's token signing key), TL_<PKG>_NATS_PASSWORD (each
# service's NATS user) and TL_NATS_PASSWORD (the tl-admin NATS user of `streams ensure`); NATS
# reads the same keys as environment variables (auth.conf).
# For the prod overlay (TLS to Postgres) run it with TL_DB_TLS=1: the database URLs then carry
# sslmode=verify-full and the CA mounted from the tradeloom-tls Secret (infra/k8s/README.md).
# The database roles get these passwords on TimescaleDB's first start only, so the script
# refuses to replace an existing Secret (README.md, "Rotating database passwords").
set -eu
ns="${1:-tradeloom}"
db_host="${TL_DB_HOST:-timescaledb}"
db_query=""
if [ "${TL_DB_TLS:-0}" = "1" ]; then
  db_query="?sslmode=verify-full&sslrootcert=/etc/tradeloom/tls/ca.crt"
fi
if kubectl -n "$ns" get secret tradeloom-secrets >/dev/null 2>&1; then
  echo "secret $ns/tradeloom-secrets exists already; not replacing it" >&2
  exit 1
fi
umask 077
env_file="$(mktemp)"
trap 'rm -f "$env_file"' EXIT INT TERM
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
echo "POSTGRES_PASSWORD=$(random)" > "$env_file"
for pkg in gateway_auth market_data order_router risk_monitor backtest_engine analytics \
           sandbox_executor strategy_runner; do
  prefix="TL_$(printf '%s' "$pkg" | tr '[:lower:]' '[:upper:]')"
  password="$(random)"
  {
    echo "${prefix}_DB_PASSWORD=$password"
    echo "${prefix}_DATABASE_URL=postgresql+asyncpg://tl_$pkg:$password@$db_host:5432/tradeloom$db_query"
    echo "${prefix}_NATS_PASSWORD=$(random)"
  } >> "$env_file"
done
echo "TL_GATEWAY_AUTH_JWT_SECRET=$(random)$(random)" >> "$env_file"
echo "TL_NATS_PASSWORD=$(random)" >> "$env_file"
kubectl -n "$ns" create secret generic tradeloom-secrets --from-env-file="$env_file"
