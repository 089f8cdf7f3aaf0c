"""The public HTTP routes, one module per area; ``forwarding`` holds what they share."""
