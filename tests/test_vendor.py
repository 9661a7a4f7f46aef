"""fieldkit/vendor.py and package.json: the browser libraries come from npm at exact
versions under permissive licences, only the files the pages need are exposed, and the
Leaflet plugins fit the Leaflet that django-leaflet ships."""

from __future__ import annotations

import json
import re
from pathlib import Path

import leaflet
import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured

from fieldkit.vendor import VENDOR_FILES, VendorFinder, served_names

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
PERMISSIVE = {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "0BSD"}


def package_json() -> dict:
    return json.loads((ROOT / "package.json").read_text())


def locked_packages() -> dict[str, dict]:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return {name.removeprefix("node_modules/"): info for name, info in lock["packages"].items() if name}


def test_it_finds_the_listed_files_in_node_modules():
    found = finders.find("vendor/chart.js/chart.umd.min.js")
    assert found == str(NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js")
    assert finders.find("vendor/leaflet.markercluster/MarkerCluster.css") == str(
        NODE_MODULES / "leaflet.markercluster" / "dist" / "MarkerCluster.css"
    )


def test_nothing_else_in_node_modules_is_found():
    for path in (
        "vendor/chart.js/package.json",
        "vendor/chart.js/dist/chart.umd.min.js",
        "vendor/chart.js/../../package.json",
        "chart.js/dist/chart.umd.min.js",
        "node_modules/chart.js/dist/chart.umd.min.js",
        "vendor/@kurkle/color/package.json",
    ):
        assert finders.find(path) is None, path
    listed = [name for name, _ in VendorFinder().list(None)]
    assert listed == list(served_names(VENDOR_FILES))
    assert all(name.startswith("vendor/") for name in listed)


def test_every_listed_file_is_installed():
    assert VendorFinder().missing() == []


def test_collectstatic_fails_without_the_libraries_and_development_is_warned(tmp_path, settings):
    finder = VendorFinder(root=tmp_path)
    with pytest.raises(ImproperlyConfigured, match="npm ci"):
        list(finder.list(None))
    settings.DEBUG = False
    assert finder.check() == []
    settings.DEBUG = True
    assert [message.id for message in finder.check()] == ["fieldkit.W004"]


def test_two_files_under_one_name_are_refused():
    with pytest.raises(ImproperlyConfigured, match="served as vendor/x/a.js"):
        served_names({"x": ["dist/a.js", "src/a.js"]})


def test_versions_are_exact_and_locked():
    dependencies = package_json()["dependencies"]
    locked = locked_packages()
    assert set(VENDOR_FILES) <= set(dependencies)
    for name, wanted in dependencies.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), f"{name}: {wanted} is not an exact version"
        assert locked[name]["version"] == wanted, name
    for name, info in locked.items():
        installed = json.loads((NODE_MODULES / name / "package.json").read_text())
        assert installed["version"] == info["version"], f"{name}: run npm ci"


def test_every_package_is_permissively_licensed_and_named_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Front-end assets") :]
    section = section[: section.find("\n## ", 1)]
    for name, info in locked_packages().items():
        assert info["license"] in PERMISSIVE, f"{name}: {info['license']}"
        assert f"`{name}` {info['version']}" in section, name
        assert info["license"] in section.split(f"`{name}` {info['version']}")[1].split("\n")[0], name


def caret_range(spec: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """npm's ^X.Y.Z as [lowest, first excluded), for X >= 1."""
    match = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)", spec)
    assert match, f"only ^X.Y.Z peer ranges are understood here, not {spec}"
    lowest = tuple(int(part) for part in match.groups())
    assert lowest[0] >= 1, spec
    return lowest, (lowest[0] + 1, 0, 0)


def test_django_leaflets_leaflet_fits_every_leaflet_plugin():
    shipped = (Path(leaflet.__file__).parent / "static" / "leaflet" / "leaflet.js").read_text()
    found = re.search(r"Leaflet (\d+)\.(\d+)\.(\d+)", shipped[:300])
    assert found, "django-leaflet's leaflet.js names no version"
    version = tuple(int(part) for part in found.groups())
    plugins = {
        name: info["peerDependencies"]["leaflet"]
        for name, info in locked_packages().items()
        if "leaflet" in info.get("peerDependencies", {})
    }
    assert {"leaflet.markercluster", "leaflet-vector-tile-layer"} <= set(plugins)
    for name, spec in plugins.items():
        lowest, excluded = caret_range(spec)
        assert lowest <= version < excluded, f"{name} wants Leaflet {spec}, django-leaflet ships {version}"
    # Leaflet is django-leaflet's alone: npm installs no second copy.
    assert not (NODE_MODULES / "leaflet").exists()
