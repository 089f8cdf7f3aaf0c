"""The Dockerfile, .dockerignore and the image entrypoint agree with the repository layout."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "infra" / "docker" / "tl-service"


def test_dockerfile_copies_only_what_exists_and_dockerignore_allows() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    sources = [m.split()[-2] for m in re.findall(r"^COPY (?!--from)(?:--\S+ )*\S+ \S+$", dockerfile, re.M)]
    assert sources, "no COPY found"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert f"!{source}" in ignore, f"{source} is excluded by .dockerignore"
    assert "--require-hashes" in dockerfile and "USER 10001:10001" in dockerfile
    assert re.search(r"^ARG SERVICE$", dockerfile, re.M)


def test_the_images_carry_the_dashboard_built_from_the_lock() -> None:
    """Docker is not available here, so the image build itself is not run: this checks the text."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert re.search(r"^FROM \$\{NODE_IMAGE\} AS dashboard$", dockerfile, re.M)
    assert "npm ci " in dockerfile and "npm run build" in dockerfile  # the lock, never npm install
    copied = re.search(r"^COPY --from=dashboard /src/dashboard/dist (\S+)$", dockerfile, re.M)
    assert copied, "the runtime stage does not copy the built dashboard"
    assert f"TL_GATEWAY_AUTH_DASHBOARD_DIR={copied.group(1)}" in dockerfile
    assert "**/node_modules/" in ignore and "**/dist/" in ignore  # the stage builds them itself
    assert (ROOT / "dashboard" / "package-lock.json").exists()


@pytest.fixture
def fake_python(tmp_path: Path) -> dict[str, str]:
    """A PATH whose `python` prints its arguments, and a services list as in the image."""
    (tmp_path / "python").write_text('#!/bin/sh\necho "python $*"\n')
    (tmp_path / "python").chmod(0o755)
    (tmp_path / "services").write_text("analytics\nmarket-data\n")
    return {"PATH": f"{tmp_path}:/usr/bin:/bin", "TL_SERVICES_FILE": str(tmp_path / "services")}


def run(env: dict[str, str], service: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**env, "TL_SERVICE": service},
        capture_output=True,
        text=True,
        check=False,
    )


def test_entrypoint_runs_the_selected_service(fake_python: dict[str, str]) -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    assert run(fake_python, "market-data").stdout == "python -m tradeloom.market_data run\n"
    assert run(fake_python, "order-router", "migrate").stdout == "python -m tradeloom.order_router migrate\n"


def test_entrypoint_bootstrap_ensures_streams_then_migrates_every_service(
    fake_python: dict[str, str],
) -> None:
    out = run(fake_python, "all", "bootstrap").stdout.splitlines()
    assert [line for line in out if line.startswith("python")] == [
        "python -m tradeloom.shared.streams ensure",
        "python -m tradeloom.analytics migrate",
        "python -m tradeloom.market_data migrate",
    ]
    refused = run(fake_python, "all", "run")
    assert refused.returncode == 64 and "bootstrap" in refused.stderr
