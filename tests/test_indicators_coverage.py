"""indicators.coverage: km and hours per grid cell, the gridded encounter rate and the
share of an area patrolled, on small fixtures worked out by hand (distances measured
independently with pyproj's geodesic on the same clipped pieces). The same tests run on
SpatiaLite and on PostGIS (DATABASE_URL), so both give the same numbers."""

from __future__ import annotations

import math
from datetime import date

from django.contrib.gis.geos import LineString, MultiLineString
from django.test import TestCase
from pyproj import Geod

from indicators import compute, formulas, grid
from indicators.models import EQUAL_AREA_SRID, CellFigure, GridCell, IndicatorRow, IndicatorValue, TrackPiece
from observations.models import PatrolLegDay, TrackSegment
from tests import indicator_builders as ib
from tests.builders import make_area, make_zone

MAY = date(2024, 5, 1)
GEOD = Geod(ellps="WGS84")
# A track running north along a meridian, then east along a parallel, inside the area.
TRACK = [(147.3505, -9.47), (147.3505, -9.44), (147.3705, -9.44)]


def cell_values(indicator: str, subject: str = "", kind: str = "M") -> dict[int, IndicatorRow]:
    rows = IndicatorRow.objects.filter(indicator=indicator, subject=subject, period_kind=kind).exclude(
        cell_id=0
    )
    return {row.cell_id: row for row in rows}


def expected_km_per_cell(area_id: int) -> dict[int, float]:
    """The track cut by each cell in EPSG:6933 with GEOS, each piece measured on the
    ellipsoid: what the SQL must find."""
    line = LineString(TRACK, srid=4326).transform(EQUAL_AREA_SRID, clone=True)
    km = {}
    for cell in GridCell.objects.filter(area_id=area_id):
        piece = line.intersection(cell.geom)
        if piece.empty or piece.length == 0:
            continue
        piece.srid = EQUAL_AREA_SRID
        piece = piece.transform(4326, clone=True)
        parts = [piece] if piece.geom_type == "LineString" else list(piece)
        km[cell.pk] = sum(GEOD.line_length(*zip(*p.coords, strict=True)) for p in parts) / 1000
    return km


class CellEffortTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.area = make_area()
        grid.build_grid(cls.area)
        cls.day_km = GEOD.line_length(*zip(*TRACK, strict=True)) / 1000
        ib.leg_day(
            cls.area,
            date(2024, 5, 3),
            km=cls.day_km,
            patrol_hours=6,
            field_hours=5,
            person_days=4,
            track=TRACK,
        )
        cls.expected = expected_km_per_cell(cls.area.pk)
        # Two snares beside the track's first kilometre, one camp far from any track.
        ib.observation(cls.area, date(2024, 5, 3), point=(147.3505, -9.4695))
        ib.observation(cls.area, date(2024, 5, 3), point=(147.3506, -9.4694))
        ib.observation(cls.area, date(2024, 5, 3), point=(147.41, -9.39), category="human_activity.camp")
        compute.compute_full()

    def test_km_per_cell(self) -> None:
        km = cell_values("effort.km")
        self.assertEqual(set(km), set(self.expected))
        for cell_id, expected in self.expected.items():
            self.assertAlmostEqual(km[cell_id].value, expected, places=6)
        # The cells add up to the area's km (the track is inside the area).
        self.assertAlmostEqual(sum(v.value for v in km.values()), self.day_km, places=5)

    def test_hours_apportioned_by_distance(self) -> None:
        hours = cell_values("effort.patrol_hours")
        for cell_id, row in cell_values("effort.km").items():
            self.assertAlmostEqual(
                hours[cell_id].value, formulas.apportion(6, row.value, self.day_km), places=9
            )
        self.assertAlmostEqual(sum(v.value for v in hours.values()), 6, places=6)
        self.assertEqual({v.value for v in cell_values("effort.leg_days").values()}, {1})

    def test_gridded_encounter_rate(self) -> None:
        km = cell_values("effort.km")
        rate = cell_values("cpue.records.km")
        counts = cell_values("cell.records")
        snare_cell = next(c for c, v in counts.items() if v.value == 2)
        camp_cell = next(c for c, v in counts.items() if v.value == 1)
        # Patrolled cells only: the camp's cell has records but no effort, hence no rate.
        self.assertEqual(set(rate), set(km))
        self.assertNotIn(camp_cell, rate)
        self.assertIn(snare_cell, rate)
        k, e = 2, km[snare_cell].value
        low, high = formulas.poisson_interval(k)
        self.assertAlmostEqual(rate[snare_cell].value, k * 10 / e)
        self.assertAlmostEqual(rate[snare_cell].lower, low * 10 / e, places=6)
        self.assertAlmostEqual(rate[snare_cell].upper, high * 10 / e, places=6)
        # A patrolled cell where nothing was seen: 0, with Garwood's upper bound for 0.
        empty = next(c for c in km if c != snare_cell)
        self.assertEqual(rate[empty].value, 0)
        self.assertAlmostEqual(rate[empty].upper, formulas.poisson_interval(0)[1] * 10 / km[empty].value, 6)
        illicit = cell_values("cpue.records.km", "vertical:illicit")
        self.assertEqual(illicit[snare_cell].numerator, 2)
        self.assertEqual(cell_values("cpue.records.km", "vertical:biodiversity")[snare_cell].value, 0)

    def test_cells_patrolled(self) -> None:
        row = IndicatorValue.objects.get(indicator="coverage.cells", period_kind="M", period_start=MAY)
        cells = GridCell.objects.filter(area=self.area).count()
        self.assertEqual((row.numerator, row.denominator), (len(self.expected), cells))
        self.assertAlmostEqual(row.value, formulas.cell_coverage(len(self.expected), cells))

    def test_year_sums_the_months(self) -> None:
        year = cell_values("effort.km", kind="Y")
        self.assertAlmostEqual(sum(v.value for v in year.values()), self.day_km, places=5)


class SwathCoverageTest(TestCase):
    def test_share_within_500_m(self) -> None:
        # A 10 × 10 km area and a track straight across its middle, east to west: the
        # swath is 1 km wide, so 1 km × 10 km of 100 km², 10 %, less the rounded ends that
        # stick out of the area (none: the track runs past both edges).
        area = make_area(bounds=(147.30, -9.50, 147.391, -9.41))
        core = make_zone(area, bounds=(147.30, -9.50, 147.391, -9.47))
        lat = -9.455
        ib.leg_day(area, MAY, km=10, track=[(147.29, lat), (147.40, lat)])
        compute.compute_full()
        row = IndicatorValue.objects.get(indicator="coverage.area", period_kind="M", zone_id=0)
        width_km = GEOD.line_length([147.30, 147.391], [lat, lat]) / 1000
        height_km = GEOD.line_length([147.30, 147.30], [-9.50, -9.41]) / 1000
        self.assertAlmostEqual(row.value, width_km * 1.0 / (width_km * height_km), delta=0.002)
        self.assertAlmostEqual(row.numerator, width_km * 1.0, delta=0.02)
        # The core lies more than 500 m south of the track: patrolled, but not covered.
        zone = IndicatorValue.objects.get(indicator="coverage.area", period_kind="M", zone_id=core.pk)
        self.assertEqual(zone.value, 0)
        self.assertTrue(
            math.isclose(
                row.value,
                IndicatorValue.objects.get(indicator="coverage.area", period_kind="Y", zone_id=0).value,
            )
        )


class TrackPiecesTest(TestCase):
    """A track is cut by the grid once per segment (TrackPiece) and reused by the next
    computations; a new segment (an edited patrol) or a rebuilt grid is cut again, so the
    cells' figures are always those of the current tracks and grid."""

    def setUp(self) -> None:
        self.area = make_area()
        grid.build_grid(self.area)
        self.day = ib.leg_day(self.area, date(2024, 5, 3), km=km_of(TRACK), track=TRACK)
        compute.compute_full()

    def km_by_square(self) -> dict[tuple[int, int], float]:
        squares = (
            dict(GridCell.objects.values_list("pk", "ix")),
            dict(GridCell.objects.values_list("pk", "iy")),
        )
        return {(squares[0][c], squares[1][c]): row.value for c, row in cell_values("effort.km").items()}

    def pieces(self) -> list[tuple]:
        return list(TrackPiece.objects.order_by("pk").values_list("pk", "segment_id", "cell_id", "km"))

    def test_a_second_computation_reuses_the_pieces(self) -> None:
        pieces, km = self.pieces(), self.km_by_square()
        self.assertEqual(len(pieces), len(expected_km_per_cell(self.area.pk)))
        compute.compute_full()
        self.assertEqual(self.pieces(), pieces)
        self.assertEqual(self.km_by_square(), km)

    def test_an_edited_track_is_cut_again(self) -> None:
        # As an edited submission leaves it (observations.records): the day's track
        # changes and its segments are deleted and written anew.
        moved = [(147.39, -9.47), (147.39, -9.41)]
        PatrolLegDay.objects.filter(pk=self.day.pk).update(
            track=MultiLineString(LineString(moved, srid=4326), srid=4326), distance_km=km_of(moved)
        )
        old = TrackSegment.objects.get(leg_day=self.day)
        TrackSegment.objects.filter(leg_day=self.day).delete()
        self.assertFalse(TrackPiece.objects.filter(segment_id=old.pk).exists())
        new = TrackSegment.objects.create(
            leg_day=self.day,
            area=self.area,
            distance_km=km_of(moved),
            patrol_hours=6,
            field_hours=5,
            person_days=4,
            day=self.day.day,
        )
        compute.compute_full()
        self.assertEqual({segment for _, segment, _, _ in self.pieces()}, {new.pk})
        km = cell_values("effort.km")
        self.assertAlmostEqual(sum(v.value for v in km.values()), km_of(moved), places=5)
        # A meridian 6 km long crosses 6 or 7 cells of 1 km, none of the old track's corner.
        self.assertIn(len(km), (6, 7, 8))

    def test_a_rebuilt_grid_cuts_the_tracks_again(self) -> None:
        km = self.km_by_square()
        grid.build_grid(self.area)
        self.assertFalse(TrackPiece.objects.exists())
        self.assertFalse(CellFigure.objects.exists())
        compute.compute_full()
        again = self.km_by_square()
        self.assertEqual(set(again), set(km))
        for square, value in km.items():
            self.assertAlmostEqual(again[square], value, places=9)


def km_of(points: list[tuple[float, float]]) -> float:
    return GEOD.line_length(*zip(*points, strict=True)) / 1000
