"""accounts.generalisation: the grid snapping of sensitive points is deterministic, its
cells have the size of their level and the uncertainty covers the cell; strip_gps removes
the camera's position and nothing else."""

from __future__ import annotations

import io
import math
import random

import pytest
from PIL import Image
from pyproj import Geod

from accounts.generalisation import (
    CELL_DEGREES,
    Sensitivity,
    generalise,
    gps_of,
    strictest,
    strip_gps,
)
from tests.access_scene import jpeg_with_gps

LEVELS = [Sensitivity.HIGH, Sensitivity.MEDIUM, Sensitivity.LOW]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the WGS 84 ellipsoid."""
    return abs(Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("level", LEVELS)
def test_snapping_is_deterministic_and_every_point_of_a_cell_gives_its_centre(level: int) -> None:
    cell = float(CELL_DEGREES[level])  # type: ignore[arg-type]
    rng = random.Random(level)
    for _ in range(200):
        lon, lat = rng.uniform(140, 156), rng.uniform(-12, -1)
        first = generalise(lon, lat, level)
        assert generalise(lon, lat, level) == first  # the same answer every time
        # The centre of the cell holding the point, half a cell from each edge.
        assert abs(first.lon - lon) <= cell / 2 + 1e-12  # type: ignore[operator]
        assert abs(first.lat - lat) <= cell / 2 + 1e-12  # type: ignore[operator]
        west = math.floor(round(lon / cell, 9)) * cell
        assert first.lon == pytest.approx(west + cell / 2, abs=1e-9)
        # Another point of the same cell: the same centre, so averaging reveals nothing.
        other = generalise(west + rng.uniform(0.01, 0.99) * cell, lat, level)
        assert (other.lon, other.lat) == (first.lon, first.lat)


@pytest.mark.parametrize("level", LEVELS)
def test_neighbouring_cells_are_one_cell_apart(level: int) -> None:
    cell = float(CELL_DEGREES[level])  # type: ignore[arg-type]
    here = generalise(147.36127, -9.42318, level)
    east = generalise(147.36127 + cell, -9.42318, level)
    north = generalise(147.36127, -9.42318 + cell, level)
    assert east.lon - here.lon == pytest.approx(cell)  # type: ignore[operator]
    assert north.lat - here.lat == pytest.approx(cell)  # type: ignore[operator]


@pytest.mark.parametrize("level", LEVELS)
def test_the_uncertainty_covers_the_cell(level: int) -> None:
    cell = float(CELL_DEGREES[level])  # type: ignore[arg-type]
    shown = generalise(147.36127, -9.42318, level)
    west, south = shown.lon - cell / 2, shown.lat - cell / 2  # type: ignore[operator]
    corners = [(west, south), (west + cell, south), (west, south + cell), (west + cell, south + cell)]
    farthest = max(metres(shown.lon, shown.lat, x, y) for x, y in corners)  # type: ignore[arg-type]
    assert farthest <= shown.uncertainty_m <= farthest * 1.01  # type: ignore[operator]
    # 0.01° at 9° S: about 1.1 km by 1.1 km, so about 780 m from centre to corner.
    if level == Sensitivity.MEDIUM:
        assert 770 <= shown.uncertainty_m <= 790  # type: ignore[operator]
    assert shown.data_generalizations and shown.information_withheld


def test_the_fix_accuracy_is_added_to_the_cell() -> None:
    assert generalise(147.36, -9.42, Sensitivity.MEDIUM, 12.0).uncertainty_m == (
        generalise(147.36, -9.42, Sensitivity.MEDIUM).uncertainty_m + 12  # type: ignore[operator]
    )


def test_a_point_on_a_cell_edge_falls_in_the_cell_it_starts() -> None:
    # 0.3 / 0.1 is 2.9999999999999996 in binary floating point; the cell is [0.3, 0.4).
    assert generalise(0.3, 0.3, Sensitivity.HIGH).lon == pytest.approx(0.35)
    assert generalise(-0.3, -0.3, Sensitivity.HIGH).lon == pytest.approx(-0.25)


def test_extreme_withholds_and_open_is_exact() -> None:
    withheld = generalise(147.36, -9.42, Sensitivity.EXTREME)
    assert (withheld.lon, withheld.lat, withheld.uncertainty_m) == (None, None, None)
    assert "withheld" in withheld.information_withheld
    exact = generalise(147.36, -9.42, Sensitivity.OPEN, 5.0)
    assert (exact.lon, exact.lat, exact.uncertainty_m, exact.data_generalizations) == (147.36, -9.42, 5.0, "")


def test_strictest_follows_the_strictness_not_the_numbers() -> None:
    assert strictest(Sensitivity.LOW, Sensitivity.HIGH) == Sensitivity.HIGH
    assert strictest(Sensitivity.EXTREME, Sensitivity.LOW) == Sensitivity.EXTREME
    assert strictest(Sensitivity.OPEN, None) == Sensitivity.OPEN
    assert strictest() == Sensitivity.OPEN


def test_strip_gps_keeps_the_rest_of_the_exif_and_the_image_data() -> None:
    photo = jpeg_with_gps(147.36127, -9.42318)
    assert gps_of(photo)[1] == "S"
    stripped = strip_gps(photo)
    assert gps_of(stripped) == {}
    assert Image.open(io.BytesIO(stripped)).getexif()[0x0110] == "Ranger phone"
    assert stripped[stripped.index(b"\xff\xda") :] == photo[photo.index(b"\xff\xda") :]
    assert strip_gps(stripped) == stripped  # nothing left to remove: unchanged
