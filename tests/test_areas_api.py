"""/api/v1/areas/ and /api/v1/zones/: GeoJSON, simplified outlines in lists, full boundaries
on detail, bbox filter, pagination; read-only for every role."""

from __future__ import annotations

import math

from django.contrib.gis.geos import MultiPolygon, Polygon

from protected_areas.models import ProtectedArea
from tests.base import BaseTestCase
from tests.builders import make_zone


class AreasApiTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A detailed boundary: a 400-vertex circle-like ring, so simplification shows.
        ring = [
            (147.36 + 0.05 * math.cos(i / 400 * math.tau), -9.43 + 0.05 * math.sin(i / 400 * math.tau))
            for i in range(400)
        ]
        ring.append(ring[0])
        cls.area.boundary = MultiPolygon(Polygon(ring), srid=4326)
        cls.area.save()
        cls.zone = make_zone(cls.area)
        cls.other_zone = make_zone(cls.other_area, code="sector-1", kind="patrol_sector")

    def get(self, url: str, user=None):  # type: ignore[no-untyped-def]
        if user is not None:
            self.client.force_login(user)
        return self.client.get(url)

    def test_it_lists_areas_as_geojson_with_simplified_outlines(self):
        r = self.get("/api/v1/areas/")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Content-Type"], "application/json")
        doc = r.json()
        self.assertEqual(doc["type"], "FeatureCollection")
        self.assertEqual(doc["count"], 2)
        feature = next(f for f in doc["features"] if f["id"] == self.area.id)
        self.assertEqual(feature["geometry"]["type"], "MultiPolygon")
        listed = len(feature["geometry"]["coordinates"][0][0])
        self.assertLess(listed, 200)
        self.assertEqual(feature["properties"]["name"], "Varirata National Park")
        self.assertEqual(feature["properties"]["iucn_category"], "II")
        self.assertNotIn("attributes", feature["properties"])

        detail = self.get(f"/api/v1/areas/{self.area.id}/").json()
        self.assertEqual(len(detail["geometry"]["coordinates"][0][0]), 401)
        self.assertIn("attributes", detail["properties"])
        self.assertGreater(detail["properties"]["area_km2"], 70)

    def test_it_filters_by_bbox(self):
        r = self.get("/api/v1/areas/?bbox=147.0,-10.0,148.0,-9.0").json()
        self.assertEqual([f["id"] for f in r["features"]], [self.area.id])
        r = self.get("/api/v1/areas/?bbox=100,10,101,11").json()
        self.assertEqual(r["count"], 0)

    def test_it_paginates(self):
        for i in range(3):
            ProtectedArea.objects.create(
                source="test", source_id=f"p{i}", name=f"Area {i}", boundary=self.other_area.boundary
            )
        r = self.get("/api/v1/areas/?page_size=2").json()
        self.assertEqual(r["count"], 5)
        self.assertEqual(len(r["features"]), 2)
        self.assertIn("page=2", r["next"])

    def test_it_filters_by_attributes(self):
        r = self.get("/api/v1/areas/?name=tonda").json()
        self.assertEqual([f["id"] for f in r["features"]], [self.other_area.id])

    def test_every_role_reads_and_nobody_writes(self):
        # Boundaries are public reference data: anonymous visitors, members and users of
        # another area all read them; writes go through imports and the admin only.
        for user in (None, self.owner, self.member, self.collector, self.outsider):
            self.client.logout()
            r = self.get(f"/api/v1/areas/{self.area.id}/", user)
            self.assertEqual(r.status_code, 200, user)
            r = self.client.delete(f"/api/v1/areas/{self.area.id}/")
            self.assertIn(r.status_code, (403, 405), user)
            r = self.client.post("/api/v1/areas/", {}, content_type="application/json")
            self.assertIn(r.status_code, (403, 405), user)
        self.assertTrue(ProtectedArea.objects.filter(pk=self.area.pk).exists())

    def test_unknown_area_is_404(self):
        self.assertEqual(self.get("/api/v1/areas/999999/").status_code, 404)

    def test_zones_are_listed_per_area(self):
        r = self.get(f"/api/v1/zones/?area={self.area.id}").json()
        self.assertEqual([f["id"] for f in r["features"]], [self.zone.id])
        self.assertEqual(r["features"][0]["properties"]["kind"], "core")
        r = self.get("/api/v1/zones/?kind=patrol_sector", self.outsider).json()
        self.assertEqual([f["id"] for f in r["features"]], [self.other_zone.id])
