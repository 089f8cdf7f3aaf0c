"""Pure rules of gateway-auth: passwords, tokens, scopes, cursors, rate limits (no NATS/SQL/HTTP)."""
