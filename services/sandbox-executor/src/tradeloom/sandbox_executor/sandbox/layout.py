"""What the sandbox's filesystem looks like, and the bubblewrap command line that builds it.

Only these are visible inside, all read-only: the system's ``/usr`` (with the merged-usr
symlinks), the real prefix of the service's interpreter (its venv points there, e.g. into
``/root/.pyenv``, whose 0700 parent is replaced by a 0755 directory bwrap creates), the venv, the
source root of ``tradeloom.quant`` and the bootstrap script. Every other ``tradeloom`` package
portion that falls inside a bound tree (an installed, non-editable layout) is hidden under an
empty tmpfs and only ``tradeloom/quant`` is bound back. ``/tmp`` is the only writable place.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

BOOT_SCRIPT_IN_SANDBOX = "/sandbox/boot.py"
SANDBOX_TMP = "/tmp"  # noqa: S108 - the sandbox's own private tmpfs, not the host's
SANDBOX_ENV: dict[str, str] = {
    "HOME": SANDBOX_TMP,
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_CACHE_DIR": SANDBOX_TMP + "/.numba",
    "MPLCONFIGDIR": SANDBOX_TMP + "/.matplotlib",
}


@dataclass(frozen=True)
class SandboxLayout:
    """Host paths bound into the sandbox at the same place, plus what is hidden again."""

    python: str
    binds: tuple[str, ...]
    masked: tuple[str, ...] = ()
    rebinds: tuple[str, ...] = ()
    symlinks: tuple[tuple[str, str], ...] = field(default=())
    boot_script: str = str(Path(__file__).with_name("boot.py"))

    def mount_args(self, tmpfs_bytes: int) -> list[str]:
        args: list[str] = []
        for target, link in self.symlinks:
            args += ["--symlink", target, link]
        # The private /tmp comes first: binds that live under the host's /tmp (a checkout or venv
        # there) are then mounted on top of it instead of being hidden by it.
        args += ["--perms", "1777", "--size", str(tmpfs_bytes), "--tmpfs", SANDBOX_TMP]
        for directory in _ancestors(self.binds):
            args += ["--perms", "0755", "--dir", directory]
        for path in self.binds:
            args += ["--ro-bind", path, path]
        for path in self.masked:
            args += ["--perms", "0755", "--size", "65536", "--tmpfs", path]
        for path in self.rebinds:
            args += ["--ro-bind", path, path]
        args += [
            "--perms",
            "0755",
            "--dir",
            "/sandbox",
            "--ro-bind",
            self.boot_script,
            BOOT_SCRIPT_IN_SANDBOX,
        ]
        args += ["--proc", "/proc", "--dev", "/dev"]
        return args


def _inside(path: str, roots: list[str] | tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _ancestors(binds: tuple[str, ...]) -> list[str]:
    """Directories bwrap must create (0755) for the binds, outermost first."""
    wanted: set[str] = set()
    for path in binds:
        parent = Path(path).parent
        while str(parent) != "/":
            if not _inside(str(parent), binds):
                wanted.add(str(parent))
            parent = parent.parent
    return sorted(wanted, key=lambda p: (p.count("/"), p))


def _minimal_roots(paths: list[str]) -> tuple[str, ...]:
    roots: list[str] = []
    for path in sorted(set(paths), key=len):
        if not _inside(path, roots):
            roots.append(path)
    return tuple(roots)


def discover_layout() -> SandboxLayout:
    """The layout for this service's own interpreter (same venv: numpy, pandas, tradeloom.quant)."""
    real_prefix = os.path.realpath(sys.base_prefix)
    candidates = ["/usr", real_prefix, sys.base_prefix, sys.prefix, os.path.realpath(sys.prefix)]
    spec = importlib.util.find_spec("tradeloom.quant")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("tradeloom.quant is not installed in the service's interpreter")
    quant_dir = os.path.realpath(next(iter(spec.submodule_search_locations)))
    quant_root = str(Path(quant_dir).parent.parent)
    candidates.append(quant_root)
    binds = _minimal_roots([os.path.realpath(p) for p in candidates if os.path.isdir(p)])
    import tradeloom  # the namespace package: every portion that could leak other platform code

    masked, rebinds = [], []
    for portion in sorted({os.path.realpath(p) for p in tradeloom.__path__}):
        if _inside(portion, binds):
            masked.append(portion)
            if os.path.isdir(os.path.join(portion, "quant")):
                rebinds.append(os.path.join(portion, "quant"))
    symlinks = tuple(
        (os.readlink(link), link)
        for link in ("/bin", "/sbin", "/lib", "/lib64", "/lib32")
        if os.path.islink(link)
    )
    return SandboxLayout(
        python=sys.executable,
        binds=binds,
        masked=tuple(masked),
        rebinds=tuple(rebinds),
        symlinks=symlinks,
    )
