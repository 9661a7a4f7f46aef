"""Web-map arithmetic, pure: tiles, the size of a screen pixel at a zoom, and the grid that
points are clustered on. No database, no Django.

Zoom levels are those of Leaflet and every slippy map: at zoom z the world (Web Mercator)
is 2^z tiles of 256 pixels across. Clusters are counted on a grid in degrees whose cells are
`CLUSTER_PX` screen pixels wide at the requested zoom, snapped to whole multiples of the
cell so that the same point falls in the same cluster whatever the map's bounds. Cells are
grouped in square blocks of `BLOCK_CELLS` × `BLOCK_CELLS` (a tile's width), the unit in
which clusters are computed and cached: a map moved by a few pixels asks again only for the
blocks it did not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TILE_PX = 256
MAX_ZOOM = 22
# A cluster covers about this many pixels across; below POINTS_ZOOM points come as clusters.
CLUSTER_PX = 64
BLOCK_CELLS = TILE_PX // CLUSTER_PX
POINTS_ZOOM = 14
# Simplified lines and polygons keep detail down to about this many pixels.
SIMPLIFY_PX = 1.0


class BadBounds(ValueError):
    """A bbox or tile address that is not one."""


@dataclass(frozen=True)
class Bounds:
    """A box in longitude/latitude (EPSG:4326)."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> Bounds:
        """`west,south,east,north` as Leaflet's `map.getBounds().toBBoxString()` writes it;
        clamped to the world."""
        try:
            west, south, east, north = (float(part) for part in text.split(","))
        except ValueError as exc:
            raise BadBounds("bbox must be four numbers: west,south,east,north") from exc
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise BadBounds("bbox must be four finite numbers")
        west, east = max(west, -180.0), min(east, 180.0)
        south, north = max(south, -90.0), min(north, 90.0)
        if west >= east or south >= north:
            raise BadBounds("bbox must have west < east and south < north")
        return cls(west, south, east, north)


def zoom_of(text: str | None, default: int = 8) -> int:
    if text in (None, ""):
        return default
    try:
        zoom = int(text)
    except ValueError as exc:
        raise BadBounds("zoom must be a whole number") from exc
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadBounds(f"zoom must be between 0 and {MAX_ZOOM}")
    return zoom


def degrees_per_pixel(zoom: int) -> float:
    """Longitude degrees one screen pixel spans at `zoom` (the same at every latitude)."""
    return 360.0 / (TILE_PX * 2**zoom)


def cluster_cell(zoom: int) -> float:
    """The side of a cluster grid cell in degrees at `zoom`: a power of two times a small
    unit, so that cells at one zoom nest in those of the zoom below."""
    return degrees_per_pixel(zoom) * CLUSTER_PX


def block_size(zoom: int) -> float:
    """The side of a cluster block in degrees at `zoom` (a whole number of cells)."""
    return cluster_cell(zoom) * BLOCK_CELLS


def blocks_covering(bounds: Bounds, zoom: int) -> list[tuple[int, int]]:
    """The (column, row) of every block that `bounds` touches, west to east, south to north."""
    size = block_size(zoom)
    columns = range(math.floor(bounds.west / size), math.floor(bounds.east / size) + 1)
    rows = range(math.floor(bounds.south / size), math.floor(bounds.north / size) + 1)
    return [(column, row) for row in rows for column in columns]


def block_bounds(zoom: int, blocks: list[tuple[int, int]]) -> Bounds:
    """The box around `blocks` (not clamped: a block may reach past the antimeridian)."""
    size = block_size(zoom)
    return Bounds(
        min(c for c, _ in blocks) * size,
        min(r for _, r in blocks) * size,
        (max(c for c, _ in blocks) + 1) * size,
        (max(r for _, r in blocks) + 1) * size,
    )


def simplify_tolerance(zoom: int) -> float:
    """Douglas–Peucker tolerance in degrees that keeps what shows at `zoom`."""
    return degrees_per_pixel(zoom) * SIMPLIFY_PX


def tile_bounds(z: int, x: int, y: int) -> Bounds:
    """The longitude/latitude box of tile z/x/y (Web Mercator, y from the north)."""
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise BadBounds("no such tile")
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return Bounds(x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))
