"""The jobs view: a user's long work across services in one list."""
