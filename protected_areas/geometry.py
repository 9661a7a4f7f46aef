"""Pure geometry helpers on shapely: areas, repairs, simplification, timezones.

No ORM here; models and importers call these.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import shapely
from django.contrib.gis import geos
from django.contrib.gis.geos import GEOSGeometry
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

# EASE-Grid 2.0 global: an equal-area projection valid worldwide, so areas in km² are
# comparable between a Pacific atoll and a mainland park.
EQUAL_AREA_CRS = "EPSG:6933"
# Display outlines: ~100 m at the equator is finer than any choropleth needs.
SIMPLIFY_TOLERANCE_DEG = 0.001
# A zone may overhang its area by this fraction of its own area (digitising slivers).
ZONE_OUTSIDE_TOLERANCE = 0.01


@lru_cache(maxsize=1)
def _to_equal_area() -> Transformer:
    return Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)


def to_shapely(geom: GEOSGeometry) -> BaseGeometry:
    return shapely.from_wkb(bytes(geom.wkb))


def to_geos(geom: BaseGeometry, srid: int = 4326) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=srid)


def to_geos_multipolygon(geom: BaseGeometry) -> geos.MultiPolygon:
    """The polygons of a shapely geometry as a GEOS MultiPolygon, for model fields."""
    return cast(geos.MultiPolygon, to_geos(polygonal_part(geom)))


def area_km2(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    projected = shapely.transform(geom, _project_coords)
    return float(projected.area) / 1e6


def _project_coords(coords):  # type: ignore[no-untyped-def]
    x, y = _to_equal_area().transform(coords[:, 0], coords[:, 1])
    coords[:, 0] = x
    coords[:, 1] = y
    return coords


def polygonal_part(geom: BaseGeometry) -> MultiPolygon:
    """The polygons of any geometry (make_valid can return collections with lines)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polygons: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif hasattr(part, "geoms"):
            polygons.extend(polygonal_part(part).geoms)
    return MultiPolygon(polygons)


def simplify_for_display(geom: BaseGeometry) -> MultiPolygon:
    simplified = shapely.simplify(geom, SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
    simplified = polygonal_part(simplified)
    # A tiny island can vanish entirely; then the outline itself is already small enough.
    return simplified if not simplified.is_empty else polygonal_part(geom)


def fraction_outside(inner: BaseGeometry, outer: BaseGeometry) -> float:
    if inner.is_empty or inner.area == 0:
        return 0.0
    return float(inner.difference(outer).area / inner.area)


@lru_cache(maxsize=1)
def _timezone_finder():  # type: ignore[no-untyped-def]
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def timezone_at(geom: BaseGeometry) -> str:
    """The IANA timezone at a point inside the geometry; "UTC" if none is found."""
    if geom.is_empty:
        return "UTC"
    point = geom.representative_point()
    finder = _timezone_finder()
    return finder.timezone_at(lng=point.x, lat=point.y) or "UTC"
