"""Context boundaries (provinces, districts): drawn under the protected areas for
orientation, read from any polygon file GDAL reads. Reading is pure (`read_boundaries`);
`load_boundaries` replaces a layer in one transaction, so a reload of the same file changes
nothing and a failed one leaves the old layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyogrio
import shapely
from django.db import transaction
from shapely.geometry.base import BaseGeometry

from maps.models import ContextBoundary
from protected_areas import geometry

# Context is seen whole at low zoom: ~1 km is about a pixel there, and islets smaller than
# a pixel are left out of the drawn outline (kept in `boundary`).
CONTEXT_SIMPLIFY_DEG = 0.01
CONTEXT_MIN_PART_DEG2 = CONTEXT_SIMPLIFY_DEG**2


@dataclass(frozen=True)
class Boundary:
    code: str
    name: str
    shape: BaseGeometry


def read_boundaries(path: Path, name_field: str, code_field: str) -> list[Boundary]:
    """The polygons of `path` in EPSG:4326, flattened (a PolygonZ shapefile loses its Z),
    repaired, with their name and code."""
    frame = pyogrio.read_dataframe(path)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    found = []
    for row in frame.itertuples(index=False):
        shape = shapely.force_2d(getattr(row, "geometry"))  # noqa: B009 (a column name)
        if shape is None or shape.is_empty:
            continue
        shape = geometry.polygonal_part(shapely.make_valid(shape))
        found.append(Boundary(str(getattr(row, code_field)), str(getattr(row, name_field)), shape))
    return found


def simplified(shape: BaseGeometry) -> BaseGeometry:
    """The outline drawn: simplified, without the parts smaller than a pixel (all of them
    kept when every part is that small)."""
    parts = geometry.polygonal_part(shapely.simplify(shape, CONTEXT_SIMPLIFY_DEG, preserve_topology=True))
    kept = [part for part in parts.geoms if part.area >= CONTEXT_MIN_PART_DEG2]
    return shapely.MultiPolygon(kept) if kept else parts


@transaction.atomic
def load_boundaries(layer: str, boundaries: list[Boundary], source: str) -> int:
    """Replace `layer` with `boundaries`; returns how many were written."""
    ContextBoundary.objects.filter(layer=layer).delete()
    ContextBoundary.objects.bulk_create(
        ContextBoundary(
            layer=layer,
            code=b.code,
            name=b.name,
            boundary=geometry.to_geos_multipolygon(b.shape),
            boundary_simplified=geometry.to_geos_multipolygon(simplified(b.shape)),
            source=source,
        )
        for b in boundaries
    )
    return len(boundaries)
