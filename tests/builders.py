"""Builders for test data, with keyword defaults: say only what the test is about."""

from __future__ import annotations

from itertools import count
from pathlib import Path

from django.contrib.gis.geos import MultiPolygon, Polygon

from protected_areas.models import ProtectedArea, Zone, ZoneKind

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_ids = count(1)


def box(west: float, south: float, east: float, north: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4326)


def make_area(
    name: str = "Varirata National Park",
    bounds: tuple[float, float, float, float] = (147.30, -9.48, 147.42, -9.38),
    **fields: object,
) -> ProtectedArea:
    n = next(_ids)
    defaults: dict[str, object] = {
        "source": "test",
        "source_id": f"test-{n}",
        "wdpa_id": 900000 + n,
        "designation": "National Park",
        "iucn_category": "II",
        "status": "Designated",
        "iso3": "PNG",
    }
    defaults.update(fields)
    return ProtectedArea.objects.create(name=name, boundary=box(*bounds), **defaults)


def make_zone(
    area: ProtectedArea,
    code: str = "core",
    kind: str = ZoneKind.CORE,
    bounds: tuple[float, float, float, float] | None = None,
    name: str | None = None,
) -> Zone:
    if bounds is None:
        west, south, east, north = area.boundary.extent
        dx, dy = (east - west) / 4, (north - south) / 4
        bounds = (west + dx, south + dy, east - dx, north - dy)
    return Zone.objects.create(
        area=area, code=code, kind=kind, name=name or code.title(), boundary=box(*bounds)
    )
