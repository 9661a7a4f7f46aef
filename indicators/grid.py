"""The equal-area grid of an area: squares of EPSG:6933 meeting its boundary (GridCell)."""

from __future__ import annotations

import math

from django.contrib.gis.geos import Polygon
from django.db import transaction

from indicators.compute import cell_size_m
from indicators.models import EQUAL_AREA_SRID, CellFigure, GridCell, TrackPiece
from protected_areas.models import ProtectedArea


@transaction.atomic
def build_grid(area: ProtectedArea) -> int:
    """(Re)build the grid of `area`; return the number of cells. Cells are numbered from
    the projection's origin, so a point's cell is found by arithmetic (compute._cell_months)."""
    size = cell_size_m(area.area_km2)
    boundary = area.boundary.transform(EQUAL_AREA_SRID, clone=True)
    prepared = boundary.prepared
    west, south, east, north = boundary.extent
    cells = []
    for ix in range(math.floor(west / size), math.floor(east / size) + 1):
        for iy in range(math.floor(south / size), math.floor(north / size) + 1):
            square = Polygon.from_bbox((ix * size, iy * size, (ix + 1) * size, (iy + 1) * size))
            square.srid = EQUAL_AREA_SRID
            if prepared.intersects(square):
                cells.append(GridCell(area=area, size_m=size, ix=ix, iy=iy, geom=square))
    # The tracks cut by the old cells are cut again by the new ones (coverage.cut_tracks).
    TrackPiece.objects.filter(cell_id__in=GridCell.objects.filter(area=area).values("pk")).delete()
    CellFigure.objects.filter(area=area).delete()
    GridCell.objects.filter(area=area).delete()
    GridCell.objects.bulk_create(cells, batch_size=2000)
    return len(cells)


def ensure_grids(area_ids: list[int] | None = None) -> None:
    """Build the grid of every area (of `area_ids`) that has none at its current size."""
    areas = ProtectedArea.objects.all() if area_ids is None else ProtectedArea.objects.filter(pk__in=area_ids)
    for area in areas.only("id", "boundary", "area_km2"):
        if not GridCell.objects.filter(area=area, size_m=cell_size_m(area.area_km2)).exists():
            build_grid(area)
