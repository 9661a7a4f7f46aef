"""The browser libraries fieldkit serves, and the one place that says which of their files
are served.

The libraries come from the npm registry: package.json pins each one exactly,
package-lock.json pins the packages they bring with them, and `npm ci` (scripts/setup.sh,
the Dockerfile) installs them into node_modules/, which is never committed. Nothing else
under node_modules is ever served: `VendorFinder` hands the static files machinery exactly
the files listed in `VENDOR_FILES`, each as `vendor/<package>/<file name>`, for `runserver`
(DEBUG on) and for `collectstatic`, which copies them, hashed and compressed, into
STATIC_ROOT for WhiteNoise to serve.

Leaflet itself is not listed: django-leaflet ships it (`leaflet/leaflet.js`, which
`{% leaflet_js %}` loads), and the admin's map widgets and the pages share that one copy.
Two copies on a page would each claim the global `L` and split the plugins between them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.checks import CheckMessage, Warning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

# Package name -> files of that package the pages load, as paths inside the package.
# Each minified script names its source map (`//# sourceMappingURL=`) and collectstatic
# rewrites that reference to the map's hashed name, failing if the map is missing: so each
# map is listed beside its script.
VENDOR_FILES: dict[str, list[str]] = {
    # Observation points clustered by the browser, with popups, on Leaflet maps.
    "leaflet.markercluster": [
        "dist/leaflet.markercluster.js",
        "dist/leaflet.markercluster.js.map",
        "dist/MarkerCluster.css",
        "dist/MarkerCluster.Default.css",
    ],
    # Mapbox Vector Tiles (ST_AsMVT) drawn as ordinary Leaflet layers (styles, popups).
    "leaflet-vector-tile-layer": [
        "dist/VectorTileLayer.umd.min.js",
        "dist/VectorTileLayer.umd.min.js.map",
    ],
    # Charts: lines over time, sparklines, bars, radar (METT by element).
    "chart.js": [
        "dist/chart.umd.min.js",
        "dist/chart.umd.min.js.map",
    ],
    # Bars and lines with intervals (encounter rates with their confidence intervals).
    "chartjs-chart-error-bars": [
        "build/index.umd.min.js",
        "build/index.umd.min.js.map",
    ],
}

PREFIX = "vendor"


def served_names(files: dict[str, list[str]]) -> dict[str, str]:
    """Static name (`vendor/<package>/<file name>`) -> path under node_modules."""
    served: dict[str, str] = {}
    for package, paths in files.items():
        for path in paths:
            name = f"{PREFIX}/{package}/{PurePosixPath(path).name}"
            if name in served:
                raise ImproperlyConfigured(f"Two files of {package} would be served as {name}.")
            served[name] = f"{package}/{path}"
    return served


class VendorStorage(FileSystemStorage):
    """node_modules, read under the served names only."""

    def __init__(self, root: Path, served: dict[str, str]) -> None:
        super().__init__(location=str(root))
        self.served = served

    def path(self, name: str) -> str:
        try:
            return super().path(self.served[name.replace("\\", "/")])
        except KeyError:
            raise FileNotFoundError(f"{name} is not a served vendor file (fieldkit/vendor.py)") from None


class VendorFinder(finders.BaseFinder):
    """Finds the files of `VENDOR_FILES` in node_modules, and nothing else there."""

    def __init__(self, root: Path | str | None = None, files: dict[str, list[str]] | None = None) -> None:
        self.root = Path(root) if root is not None else Path(settings.BASE_DIR) / "node_modules"
        self.served = served_names(VENDOR_FILES if files is None else files)
        self.storage = VendorStorage(self.root, self.served)

    def missing(self) -> list[str]:
        """Listed files that node_modules lacks (npm ci not run, or a package's layout changed)."""
        return [source for source in self.served.values() if not (self.root / source).is_file()]

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        # With DEBUG off the files are served from STATIC_ROOT, where collectstatic put them
        # (and collectstatic fails when one is missing): node_modules may well be absent.
        missing = self.missing() if settings.DEBUG else []
        if not missing:
            return []
        return [
            Warning(
                f"{len(missing)} browser library files are missing from {self.root}, "
                f"first {missing[0]}: pages that load them get 404s.",
                hint="Run `npm ci` (scripts/setup.sh does).",
                id="fieldkit.W004",
            )
        ]

    # Any: django-stubs promise None for nothing found, but finders.find() needs [] then.
    def find(self, path: str, find_all: bool = False) -> Any:
        source = self.served.get(path.replace("\\", "/"))
        found = str(self.root / source) if source and (self.root / source).is_file() else None
        if str(self.root) not in finders.searched_locations:
            finders.searched_locations.append(str(self.root))
        if found is None:
            return []  # Not None: finders.find() takes anything but a list for a match.
        return [found] if find_all else found

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, VendorStorage]]:
        missing = self.missing()
        if missing:
            raise ImproperlyConfigured(
                f"Browser library files are missing from {self.root}: {', '.join(missing)}. "
                "Run `npm ci` (scripts/setup.sh does) before collectstatic."
            )
        patterns = list(ignore_patterns or [])
        for name in self.served:
            parts = (name, PurePosixPath(name).name)
            if not any(fnmatch.fnmatchcase(part, pattern) for pattern in patterns for part in parts):
                yield name, self.storage
