"""The dashboard's static files at ``/`` and the browser session (refresh token in an HttpOnly cookie)."""

from __future__ import annotations

import gzip
from pathlib import Path

from gateway_testkit import PASSWORD, ApiFactory


def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>'
    )
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    return tmp_path


async def test_index_and_hashed_assets_with_their_cache_and_policy(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    api = await make_api(dashboard_dir=str(built(tmp_path)))
    index = await api.http.get("/", headers={"host": "trade.example:8000"})
    assert index.status_code == 200 and "app-1a2b.js" in index.text
    assert index.headers["cache-control"] == "no-cache"
    assert index.headers["content-type"].startswith("text/html")
    policy = index.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    assert "connect-src 'self' ws://trade.example:8000;" in policy and "frame-ancestors 'none'" in policy
    assert index.headers.get_list("content-security-policy") == [policy]  # not the API's policy as well
    asset = await api.http.get("/assets/app-1a2b.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/javascript")
    for missing in ("/assets/nope.js", "/assets/..%2Findex.html", "/assets/.hidden"):
        assert (await api.http.get(missing)).status_code == 404, missing
    api_answer = await api.http.get("/v1/system/status")
    assert api_answer.headers["cache-control"] == "no-store"  # the API keeps its own headers


async def test_precompressed_files_are_served_with_their_encoding_and_vary(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    build = built(tmp_path)
    script = build / "assets" / "app-1a2b.js"
    (build / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(script.read_bytes()))
    (build / "assets" / "app-1a2b.js.br").write_bytes(b"brotli bytes")  # served as is, never decoded here
    api = await make_api(dashboard_dir=str(build))
    http = api.http
    br = await http.get("/assets/app-1a2b.js", headers={"accept-encoding": "gzip, br"})
    assert br.headers["content-encoding"] == "br" and br.headers["vary"] == "Accept-Encoding"
    assert br.headers["content-type"].startswith("text/javascript")
    gz = await http.get("/assets/app-1a2b.js", headers={"accept-encoding": "gzip, br;q=0"})
    assert gz.headers["content-encoding"] == "gzip" and gz.text == "console.log(1)"  # httpx decodes it
    plain = await http.get("/assets/app-1a2b.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == "console.log(1)"
    assert plain.headers["vary"] == "Accept-Encoding"
    index = await http.get("/", headers={"accept-encoding": "gzip"})  # no index.html.gz: plain
    assert "content-encoding" not in index.headers and index.headers["vary"] == "Accept-Encoding"
    assert (await http.get("/assets/app-1a2b.js.gz")).status_code == 404  # only by negotiation


async def test_a_host_header_is_never_reflected_unless_plain(make_api: ApiFactory, tmp_path: Path) -> None:
    api = await make_api(dashboard_dir=str(built(tmp_path)))
    index = await api.http.get("/", headers={"host": "evil; script-src *"})
    assert "evil" not in index.headers["content-security-policy"]


async def test_without_a_build_the_page_says_so(make_api: ApiFactory, tmp_path: Path) -> None:
    for directory in ("", str(tmp_path)):
        api = await make_api(dashboard_dir=directory)
        index = await api.http.get("/")
        assert index.status_code == 404 and "not built" in index.text and "make install" in index.text


async def test_browser_session_keeps_the_refresh_token_in_an_http_only_cookie(make_api: ApiFactory) -> None:
    api = await make_api()
    await api.register("browser@example.com")
    login = await api.http.post(
        "/v1/auth/browser/login", json={"email": "browser@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert set(login.json()) == {"access_token", "token_type", "expires_in"}
    cookie = login.headers["set-cookie"]
    for part in ("tl_refresh=", "HttpOnly", "Path=/v1/auth/browser", "SameSite=strict"):
        assert part.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http here; https requests get Secure
    spent = login.cookies["tl_refresh"]
    # the cookie alone refreshes (rotating it); the JSON-body route for API clients is unchanged
    again = await api.http.post("/v1/auth/browser/refresh")  # the client's jar sends the cookie
    assert again.status_code == 200 and "access_token" in again.json()
    fresh = again.cookies["tl_refresh"]
    assert fresh != spent
    api.http.cookies.clear()
    none = await api.http.post("/v1/auth/browser/refresh")
    assert none.status_code == 401 and none.json()["code"] == "invalid_refresh_token"
    me = await api.http.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"}
    )
    assert me.status_code == 200
    out = await api.http.post(
        "/v1/auth/browser/logout", headers={"Authorization": f"Bearer {again.json()['access_token']}"}
    )
    assert out.status_code == 204 and 'tl_refresh=""' in out.headers["set-cookie"]
    api.http.cookies.set("tl_refresh", fresh, domain="gateway.test", path="/v1/auth/browser")
    ended = await api.http.post("/v1/auth/browser/refresh")
    assert ended.status_code == 401
