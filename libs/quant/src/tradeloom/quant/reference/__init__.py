"""Plain Python/numpy reference implementations that the compiled kernels are tested against.

They follow the textbook definitions as literally as possible (per-index windows, explicit
recursions) and are slow on purpose: clarity over speed.
"""
