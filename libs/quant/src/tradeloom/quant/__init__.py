"""Pure numerics for Tradeloom: no I/O, no platform imports. Filled in by the quant issue."""

__all__: list[str] = []
