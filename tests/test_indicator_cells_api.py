"""/api/v1/indicators/cells/: one indicator and period on the area's grid, as GeoJSON;
owner, member and outsider."""

from __future__ import annotations

from datetime import date

from indicators import compute, grid
from tests import indicator_builders as ib
from tests.base import BaseTestCase

URL = (
    "/api/v1/indicators/cells/?area={}&indicator=cell.records&subject=vertical:illicit"
    "&period_kind=Y&period_start=2024-01-01"
)


class CellsApiTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        grid.build_grid(cls.area)
        ib.leg_day(cls.area, date(2024, 5, 3), track=[(147.3505, -9.432), (147.3505, -9.428)])
        ib.observation(cls.area, date(2024, 5, 3), point=(147.35, -9.43))
        ib.observation(cls.area, date(2024, 6, 3), point=(147.35, -9.43))
        compute.compute_full()

    def test_it_works(self) -> None:
        self.client.force_login(self.owner)
        r = self.client.get(URL.format(self.area.pk))
        self.assertEqual(r.status_code, 200)
        features = r.json()["features"]
        # The area is about 13 × 11 km: 1 km cells, those meeting the boundary.
        self.assertGreater(len(features), 100)
        counted = [f for f in features if f["properties"]["value"] is not None]
        self.assertEqual([f["properties"]["value"] for f in counted], [2])
        ring = counted[0]["geometry"]["coordinates"][0]
        self.assertEqual(len(ring), 5)
        self.assertTrue(all(147.3 < lon < 147.42 and -9.48 < lat < -9.38 for lon, lat in ring))

    def test_the_gridded_encounter_rate(self) -> None:
        self.client.force_login(self.member)
        url = URL.format(self.area.pk).replace("cell.records", "cpue.records.km")
        features = self.client.get(url).json()["features"]
        walked = [f["properties"] for f in features if f["properties"]["effort"] is not None]
        # The short track lies in one or two cells; every other cell is no data, not 0.
        self.assertIn(len(walked), (1, 2))
        self.assertEqual(sum(p["numerator"] for p in walked), 2)
        for p in walked:
            self.assertAlmostEqual(p["value"], p["numerator"] * 10 / p["effort"])
            self.assertGreater(p["upper"], p["value"])
        self.assertEqual(sum(1 for f in features if f["properties"]["value"] is not None), len(walked))

    def test_a_member_reads_it(self) -> None:
        self.client.force_login(self.member)
        self.assertEqual(self.client.get(URL.format(self.area.pk)).status_code, 200)

    def test_it_validates_ownership(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(URL.format(self.area.pk)).status_code, 404)
        self.client.force_login(self.collector)
        self.assertEqual(self.client.get(URL.format(self.area.pk)).status_code, 404)

    def test_it_validates_the_query(self) -> None:
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get("/api/v1/indicators/cells/?area=x").status_code, 400)
