"""Static files in the production shape: gunicorn with DEBUG off serves the admin's styles
and the browser libraries itself (WhiteNoise), under content-hashed names cached for ever,
compressed, and nothing from node_modules but the files fieldkit/vendor.py names."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

from fieldkit.vendor import VENDOR_FILES, served_names
from tests.browser import FieldkitServer

FOREVER = "max-age=315360000"
HASHED = re.compile(r"\.[0-9a-f]{12}\.")


def get(server: FieldkitServer, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def manifest(server: FieldkitServer) -> dict[str, str]:
    return json.loads((server.static_root / "staticfiles.json").read_text())["paths"]


def test_admin_login_page_and_its_stylesheets_are_served_with_debug_off(fieldkit_server):
    status, _, body = get(fieldkit_server, "/admin/login/")
    assert status == 200
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body.decode())
    assert "/static/admin/css/base.css" not in stylesheets
    assert any(href.startswith("/static/admin/css/base.") for href in stylesheets), stylesheets
    for href in stylesheets:
        assert HASHED.search(href), href
        status, headers, css = get(fieldkit_server, href)
        assert status == 200, href
        assert headers["content-type"].startswith("text/css"), href
        assert FOREVER in headers["cache-control"] and "immutable" in headers["cache-control"], headers
        assert css


def test_browser_libraries_are_served_hashed_cached_for_ever_and_compressed(fieldkit_server):
    hashed = manifest(fieldkit_server)
    names = [*served_names(VENDOR_FILES), "leaflet/leaflet.js", "leaflet/leaflet.css"]
    for name in names:
        path = "/static/" + hashed[name]
        status, headers, body = get(fieldkit_server, path)
        assert status == 200, path
        assert FOREVER in headers["cache-control"] and "immutable" in headers["cache-control"], path
        assert body, path
        if not name.endswith(".map"):
            status, headers, packed = get(fieldkit_server, path, **{"Accept-Encoding": "br, gzip"})
            assert (status, headers.get("content-encoding")) == (200, "br"), path
            assert len(packed) < len(body), path
    status, _, leaflet = get(fieldkit_server, "/static/" + hashed["leaflet/leaflet.js"])
    assert b"Leaflet 1." in leaflet[:200]
    chart = "/static/" + hashed["vendor/chart.js/chart.umd.min.js"]
    status, headers, _ = get(fieldkit_server, chart, **{"Accept-Encoding": "gzip"})
    assert headers.get("content-encoding") == "gzip"
    assert headers["content-type"].startswith("text/javascript")


def test_plain_names_are_served_but_not_cached_for_ever(fieldkit_server):
    # Leaflet's marker icons are loaded under their plain names (LEAFLET_CONFIG).
    for path in ("/static/admin/css/base.css", "/static/leaflet/images/marker-icon.png"):
        status, headers, _ = get(fieldkit_server, path)
        assert status == 200, path
        assert FOREVER not in headers["cache-control"] and "immutable" not in headers["cache-control"]


def test_nothing_else_from_node_modules_is_served(fieldkit_server):
    for path in (
        "/static/vendor/chart.js/package.json",
        "/static/vendor/chart.js/chart.js",
        "/static/chart.js/dist/chart.umd.min.js",
        "/static/node_modules/chart.js/dist/chart.umd.min.js",
        "/static/vendor/@kurkle/color/package.json",
    ):
        assert get(fieldkit_server, path)[0] == 404, path
    served = set(served_names(VENDOR_FILES))
    collected = fieldkit_server.static_root / "vendor"
    for file in collected.rglob("*"):
        if file.is_file():
            name = str(file.relative_to(fieldkit_server.static_root))
            plain = HASHED.sub(".", re.sub(r"\.(gz|br)$", "", name))
            assert plain in served, name


def test_the_image_builds_the_browser_libraries_and_ships_only_the_collected_files():
    dockerfile = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    npm = next(stage for stage in stages if "npm ci" in stage)
    assert npm.startswith("node:") and "package-lock.json" in npm
    collecting = next(stage for stage in stages if "collectstatic" in stage)
    assert "node_modules" in collecting
    final = stages[-1]
    assert "node_modules" not in final and "npm" not in final
    assert "collectstatic" not in final and "/app/static" in final
