"""No template or static file of fieldkit loads anything from another site: pages must work
without internet, so scripts, styles, fonts and images come from fieldkit itself (the
browser libraries through npm, fieldkit/vendor.py). The basemap is the one exception, and
its URL is a setting (MAP_TILES_URL), never written into a template or a script."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", "node_modules", "var", ".git", "__pycache__"}
# Absolute URLs, and protocol-relative ones where a resource is loaded from (src=, href=,
# url(), @import, import ... from).
EXTERNAL = re.compile(
    r"""https?://[^\s"'<>)]+"""
    r"""|(?:(?:src|href|srcset)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])//[^\s"'<>)]+""",
    re.I,
)
# Namespace names are identifiers that nothing fetches.
NAMESPACES = re.compile(r"^https?://(www\.)?(w3\.org|openrosa\.org|opendatakit\.org)/", re.I)
# A link a person follows is not a resource the page loads.
LINK = re.compile(r"""<a\s[^>]*href\s*=\s*["']?$""", re.I)


def project_files(root: Path) -> list[Path]:
    """Every file under a `templates` or `static` directory of the project."""
    found = []
    for directory in root.rglob("*"):
        if not directory.is_dir() or directory.name not in ("templates", "static"):
            continue
        if SKIPPED & set(directory.relative_to(root).parts):
            continue
        found += [path for path in directory.rglob("*") if path.is_file()]
    return found


def external_references(path: Path, root: Path) -> list[str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:  # images and fonts
        return []
    found = []
    for match in EXTERNAL.finditer(text):
        url = match.group(0)
        if NAMESPACES.match(url) or LINK.search(text[max(0, match.start() - 200) : match.start()]):
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(f"{path.relative_to(root)}:{line}: {url}")
    return found


def test_no_template_or_static_file_loads_from_another_site():
    files = project_files(ROOT)
    assert any(path.suffix == ".html" for path in files)  # the scan sees the templates
    assert [ref for path in files for ref in external_references(path, ROOT)] == []


def test_the_check_finds_what_a_cdn_would_look_like(tmp_path):
    templates = tmp_path / "maps" / "templates" / "maps"
    static = tmp_path / "maps" / "static" / "maps"
    templates.mkdir(parents=True)
    static.mkdir(parents=True)
    (templates / "page.html").write_text(
        '<link rel="stylesheet" href="https://unpkg.com/leaflet@1.9.4/dist/leaflet.css">\n'
        '<script src="//cdn.jsdelivr.net/npm/chart.js"></script>\n'
        '<p>Data: <a href="https://www.protectedplanet.net/">WDPA</a></p>\n'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'
    )
    (static / "style.css").write_text("@import url(https://fonts.googleapis.com/css?family=Roboto);\n")
    (static / "map.js").write_text('L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png");\n')
    found = [ref for path in project_files(tmp_path) for ref in external_references(path, tmp_path)]
    assert len(found) == 4, found
    assert not any("protectedplanet" in ref or "w3.org" in ref for ref in found)
