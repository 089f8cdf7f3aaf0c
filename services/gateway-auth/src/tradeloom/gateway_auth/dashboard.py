"""The web dashboard's static files at ``/``: ``index.html`` and Vite's content-hashed ``/assets/*``.

The build (``dashboard/`` at the repository root, ``npm ci && npm run build`` in ``make install``)
lands in ``TL_GATEWAY_AUTH_DASHBOARD_DIR``. Hashed assets never change under their name, so they are
cached for a year (``immutable``); ``index.html`` names the current hashes and is revalidated on every
load (``no-cache``). The page's Content-Security-Policy allows nothing beyond this origin: scripts,
styles, images and fonts from ``'self'``, fetches and the WebSocket to this host only, no frames, no
inline code. Without a build, ``/`` answers 404 with one plain sentence saying how to build it.

The build also writes each file precompressed (``dashboard/compress.mjs``: ``name.br`` and
``name.gz`` beside ``name``). A request whose ``Accept-Encoding`` takes ``br`` (else ``gzip``) gets
that file with its ``Content-Encoding``; every answer says ``Vary: Accept-Encoding`` so a shared cache
keeps the variants apart. Nothing is compressed per request.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

ASSET_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>Tradeloom</title>"
    "<p>The dashboard is not built. Run <code>make install</code> (it runs <code>npm ci</code> and "
    "<code>npm run build</code> in <code>dashboard/</code>), or set TL_GATEWAY_AUTH_DASHBOARD_DIR to a "
    "build. The API is at <a href=/v1/docs>/v1/docs</a>.</p>"
)
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".map": "application/json",
}


def content_security_policy(request: Request) -> str:
    """Same origin only; the WebSocket's ws:/wss: origin is named since older browsers need it."""
    host = request.headers.get("host", "")
    ws = ""
    if HOST.match(host):  # never reflect anything but a plain host[:port] into the header
        ws = f" {'wss' if request.url.scheme == 'https' else 'ws'}://{host}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'{ws}; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def accepted(header: str) -> set[str]:
    """The codings an ``Accept-Encoding`` header takes (``q=0`` refuses one)."""
    out: set[str] = set()
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                out.add(coding.strip())
        except ValueError:
            continue
    return out


def static_file(request: Request, path: Path, media_type: str, headers: dict[str, str]) -> FileResponse:
    """``path`` itself, or its precompressed sibling when the client takes that coding."""
    headers = {**headers, "vary": "Accept-Encoding"}
    takes = accepted(request.headers.get("accept-encoding", ""))
    for coding, suffix in ENCODINGS:
        packed = path.with_name(path.name + suffix)
        if coding in takes and packed.is_file():
            headers["content-encoding"] = coding
            return FileResponse(packed, media_type=media_type, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)


def _build_dir(request: Request) -> Path | None:
    configured = request.app.state.gateway.settings.dashboard_dir
    if not configured:
        return None
    path = Path(configured)
    return path if (path / "index.html").is_file() else None


@router.get("/", response_model=None)
async def index(request: Request) -> Response:
    build = _build_dir(request)
    headers = {"content-security-policy": content_security_policy(request), "cache-control": "no-cache"}
    if build is None:
        return HTMLResponse(NOT_BUILT, status_code=404, headers=headers)
    return static_file(request, build / "index.html", "text/html; charset=utf-8", headers)


@router.get("/assets/{name}", response_model=None)
async def asset(name: str, request: Request) -> Response:
    build = _build_dir(request)
    path = build / "assets" / name if build is not None and ASSET_NAME.match(name) else None
    if path is None or name.startswith(".") or name.endswith((".br", ".gz")) or not path.is_file():
        return Response(
            "not found", status_code=404, media_type="text/plain", headers={"cache-control": "no-store"}
        )
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return static_file(request, path, media_type, {"cache-control": IMMUTABLE})
