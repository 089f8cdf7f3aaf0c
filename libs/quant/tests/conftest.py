"""Test setup for tradeloom.quant.

- Makes the shared helpers (``quant_testkit``) importable under ``--import-mode=importlib``.
- Points Numba's on-disk cache at a directory keyed by a hash of the quant sources. Numba
  invalidates a cached kernel only when its *own* file changes, not when a kernel it calls does, so
  a stale cache could otherwise test old code after an edit.
"""

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

_HERE = Path(__file__).parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((_HERE.parent / "src" / "tradeloom" / "quant").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


if "numba" not in sys.modules and "NUMBA_CACHE_DIR" not in os.environ:
    _cache = Path(tempfile.gettempdir()) / f"tradeloom-quant-numba-{_source_hash()}"
    for _stale in _cache.parent.glob("tradeloom-quant-numba-*"):  # caches of older sources
        if _stale != _cache:
            shutil.rmtree(_stale, ignore_errors=True)
    os.environ["NUMBA_CACHE_DIR"] = str(_cache)
