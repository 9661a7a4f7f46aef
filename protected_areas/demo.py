"""Demo protected areas: five areas shaped like Papua New Guinea's, in the classic WDPA
schema, with zones. The outlines are drawn for the demo around each area's real location
and approximate size; they are not the gazetted boundaries.

The areas go through the same importer as a real WDPA file, so the demo exercises it.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from protected_areas import geometry
from protected_areas.importers import ImportReport, import_areas
from protected_areas.models import ProtectedArea, Zone, ZoneKind

CEPA = "Conservation and Environment Protection Authority (CEPA)"


@dataclass(frozen=True)
class DemoArea:
    wdpa_id: int
    name: str
    designation: str
    iucn: str
    status_year: int
    governance: str
    lon: float
    lat: float
    area_km2: float
    marine: int = 0


DEMO_AREAS = [
    DemoArea(900000101, "Varirata", "National Park", "II", 1969,
             "Federal or national ministry or agency", 147.370, -9.435, 10.6),
    DemoArea(900000102, "YUS", "Conservation Area", "VI", 2009,
             "Indigenous peoples", 146.800, -5.980, 760.0),
    DemoArea(900000103, "Tonda", "Wildlife Management Area", "VI", 1975,
             "Indigenous peoples", 141.450, -8.900, 5900.0),
    DemoArea(900000104, "Crater Mountain", "Wildlife Management Area", "VI", 1993,
             "Collaborative governance", 145.080, -6.600, 2700.0),
    DemoArea(900000105, "Kimbe Bay", "Locally Managed Marine Area", "Not Reported", 2013,
             "Indigenous peoples", 150.350, -5.250, 420.0, marine=2),
]  # fmt: skip


def outline(area: DemoArea) -> Polygon:
    """An irregular outline of about the area's size around its location."""
    radius_km = math.sqrt(area.area_km2 / math.pi)
    km_per_deg_lat = 110.57
    km_per_deg_lon = 111.32 * math.cos(math.radians(area.lat))
    points = []
    for step in range(36):
        theta = 2 * math.pi * step / 36
        r = radius_km * (1 + 0.22 * math.sin(3 * theta) + 0.08 * math.cos(5 * theta + 1))
        points.append(
            (area.lon + r * math.cos(theta) / km_per_deg_lon, area.lat + r * math.sin(theta) / km_per_deg_lat)
        )
    return Polygon(points)


def wdpa_features() -> dict:
    features = []
    for area in DEMO_AREAS:
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(outline(area)),
                "properties": {
                    "WDPAID": area.wdpa_id,
                    "WDPA_PID": str(area.wdpa_id),
                    "PA_DEF": "1",
                    "NAME": f"{area.name} {area.designation}",
                    "ORIG_NAME": area.name,
                    "DESIG": area.designation,
                    "DESIG_ENG": area.designation,
                    "DESIG_TYPE": "National",
                    "IUCN_CAT": area.iucn,
                    "MARINE": str(area.marine),
                    "REP_AREA": area.area_km2,
                    "REP_M_AREA": area.area_km2 if area.marine else 0.0,
                    "STATUS": "Designated",
                    "STATUS_YR": area.status_year,
                    "GOV_TYPE": area.governance,
                    "OWN_TYPE": "Communal",
                    "MANG_AUTH": CEPA,
                    "MANG_PLAN": "Not Reported",
                    "VERIF": "State Verified",
                    "ISO3": "PNG",
                    "PARENT_ISO3": "PNG",
                    "SUPP_INFO": "Demo outline drawn for fieldkit; not the gazetted boundary.",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def zone_shapes(boundary: MultiPolygon) -> list[tuple[str, str, str, MultiPolygon]]:
    """(code, name, kind, shape) of a core, a buffer ring, four patrol sectors and a
    community-use zone, all inside the boundary."""
    centre = boundary.centroid
    core = affinity.scale(boundary, 0.45, 0.45, origin=centre)
    inner = affinity.scale(boundary, 0.8, 0.8, origin=centre)
    buffer_ring = boundary.difference(inner)
    west, south, east, north = boundary.bounds
    cx, cy = centre.x, centre.y
    quadrants = {
        "north-east": box(cx, cy, east, north),
        "north-west": box(west, cy, cx, north),
        "south-west": box(west, south, cx, cy),
        "south-east": box(cx, south, east, cy),
    }
    shapes = [
        ("core", "Core zone", ZoneKind.CORE, core),
        ("buffer", "Buffer zone", ZoneKind.BUFFER, buffer_ring),
    ]
    for label, quadrant in quadrants.items():
        shapes.append(
            (
                f"sector-{label}",
                f"Patrol sector {label}",
                ZoneKind.PATROL_SECTOR,
                boundary.intersection(quadrant),
            )
        )
    shapes.append(
        (
            "community-south-west",
            "Community use (south-west villages)",
            ZoneKind.COMMUNITY_USE,
            buffer_ring.intersection(quadrants["south-west"]),
        )
    )
    return [(code, name, kind, geometry.polygonal_part(shape)) for code, name, kind, shape in shapes]


def demo_areas() -> QuerySet[ProtectedArea]:
    return ProtectedArea.objects.filter(source="wdpa", wdpa_id__in=[a.wdpa_id for a in DEMO_AREAS])


def load_demo_areas() -> tuple[ImportReport, int]:
    """Import the demo areas and (re)build their zones. Idempotent."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "png_demo_wdpa.geojson"
        path.write_text(json.dumps(wdpa_features()))
        report = import_areas(path)
    zones = 0
    for area in demo_areas():
        shape = geometry.to_shapely(area.boundary)
        for code, name, kind, zone_shape in zone_shapes(shape):
            zone = Zone.objects.filter(area=area, code=code).first() or Zone(area=area, code=code)
            new_boundary = geometry.to_geos_multipolygon(zone_shape)
            if zone.pk and zone.boundary.equals_exact(new_boundary, 1e-12) and zone.name == name:
                continue
            zone.name, zone.kind, zone.boundary = name, kind, new_boundary
            zone.save()
            zones += 1
    return report, zones
