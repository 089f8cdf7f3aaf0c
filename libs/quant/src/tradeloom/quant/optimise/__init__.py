"""Parameter optimisation: grid and random search in parallel compiled code, and walk-forward."""

from tradeloom.quant.optimise.compiled import SUMMARY_COLUMNS, summary_metrics
from tradeloom.quant.optimise.search import SearchResults, evaluate, grid_candidates, random_candidates
from tradeloom.quant.optimise.walk_forward import Fold, WalkForwardResult, walk_forward

__all__ = [
    "SUMMARY_COLUMNS",
    "Fold",
    "SearchResults",
    "WalkForwardResult",
    "evaluate",
    "grid_candidates",
    "random_candidates",
    "summary_metrics",
    "walk_forward",
]
