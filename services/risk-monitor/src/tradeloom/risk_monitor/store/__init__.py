"""SQL of risk-monitor's schema (the only place that knows table layouts)."""
