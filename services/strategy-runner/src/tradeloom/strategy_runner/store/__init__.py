"""SQL of strategy-runner's schema (one module per table family)."""
