"""Pure analytics rules: no NATS, SQL or HTTP imports (checked by import-linter)."""
