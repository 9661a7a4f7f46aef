"""GET /maps/data/observations.geojson and /maps/data/tracks.geojson: the map layers, for
the area's member (exact points), viewer (generalised), law enforcement (illicit only), a
manager of another area (nothing), and nobody signed in."""

from __future__ import annotations

import random
from typing import Any

from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.generalisation import Sensitivity, generalise
from accounts.models import AccessEvent, Role
from maps import data, geo
from observations.models import Observation, PatrolLegDay
from tests import access_scene as scene

OBS = "/maps/data/observations.geojson"
TRACKS = "/maps/data/tracks.geojson"
NEAR_EAGLE = (
    f"{scene.EAGLE_LON - 0.05},{scene.EAGLE_LAT - 0.05},{scene.EAGLE_LON + 0.05},{scene.EAGLE_LAT + 0.05}"
)
PARK = "147.2,-9.6,147.6,-9.3"


class MapDataTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def get(self, role: str | None, url: str, **params: Any) -> Any:
        self.client.logout()
        if role:
            self.client.force_login(getattr(self, role))
        return self.client.get(url, params)

    def points(self, role: str, **params: Any) -> dict[int, list[float]]:
        body = self.get(role, OBS, bbox=NEAR_EAGLE, zoom=16, **params).json()
        self.assertFalse(body["clustered"])
        return {f["id"]: f["geometry"]["coordinates"] for f in body["features"]}

    def test_member_sees_exact_points_and_is_audited(self) -> None:
        before = AccessEvent.objects.filter(user=self.member).count()
        shown = self.points("member")
        self.assertEqual(shown[self.eagle_obs.pk], [scene.EAGLE_LON, scene.EAGLE_LAT])
        self.assertIn(self.cassowary_obs.pk, shown)
        self.assertEqual(AccessEvent.objects.filter(user=self.member).count(), before + 1)

    def test_viewer_gets_the_eagle_generalised_everywhere(self) -> None:
        expected = generalise(scene.EAGLE_LON, scene.EAGLE_LAT, Sensitivity.MEDIUM)
        shown = self.points("viewer")
        self.assertEqual(shown[self.eagle_obs.pk], [expected.lon, expected.lat])
        # Clusters at every zoom: the cluster never sits on the exact point.
        for zoom in range(4, 14):
            body = self.get("viewer", OBS, bbox=PARK, zoom=zoom).json()
            self.assertTrue(body["clustered"])
            text = str(body)
            self.assertNotIn(str(scene.EAGLE_LON), text)
            self.assertNotIn(str(scene.EAGLE_LAT), text)
            self.assertEqual(sum(f["properties"]["count"] for f in body["features"]), 2, zoom)

    def test_extreme_records_are_left_out_for_the_viewer(self) -> None:
        self.eagle.sensitivity = Sensitivity.EXTREME
        self.eagle.save()
        self.assertNotIn(self.eagle_obs.pk, self.points("viewer"))
        body = self.get("viewer", OBS, bbox=PARK, zoom=8).json()
        self.assertEqual(sum(f["properties"]["count"] for f in body["features"]), 1)
        self.assertIn(self.eagle_obs.pk, self.points("member"))

    def test_law_enforcement_sees_illicit_only_and_outsiders_nothing(self) -> None:
        self.assertEqual(set(self.points("law")), {self.eagle_obs.pk})
        self.assertEqual(self.points("outsider"), {})
        self.assertEqual(self.points("outside_law"), {})
        self.assertEqual(self.points("nobody"), {})
        self.assertEqual(self.get(None, OBS).status_code, 401)

    def test_clusters_count_per_vertical_and_follow_the_filter(self) -> None:
        body = self.get("member", OBS, bbox=PARK, zoom=6).json()
        counts = {f["properties"]["vertical"]: f["properties"]["count"] for f in body["features"]}
        self.assertEqual(counts, {"illicit": 1, "biodiversity": 1})
        body = self.get("member", OBS, bbox=PARK, zoom=6, vertical="illicit").json()
        self.assertEqual([f["properties"]["count"] for f in body["features"]], [1])
        body = self.get("member", OBS, bbox=PARK, zoom=6, since="2024-06-01").json()
        self.assertEqual(body["features"], [])
        body = self.get("member", OBS, bbox=PARK, zoom=6, area=self.other_area.pk).json()
        self.assertEqual(body["features"], [])

    def test_generalised_in_sql_as_in_python(self) -> None:
        rng = random.Random(7)
        world = geo.Bounds(-180, -90, 180, 90)
        for level in (Sensitivity.LOW, Sensitivity.MEDIUM, Sensitivity.HIGH):
            self.eagle.sensitivity = level
            self.eagle.save()
            for _ in range(20):
                lon, lat = round(rng.uniform(147.2, 147.6), 6), round(rng.uniform(-9.6, -9.3), 6)
                Observation.objects.filter(pk=self.eagle_obs.pk).update(location=Point(lon, lat, srid=4326))
                rows = data.shown_rows(self.viewer, data.Filters(), world)
                gx, gy = next(r[2:] for r in rows if r[0] == self.eagle_obs.pk)
                expected = generalise(lon, lat, level)
                self.assertAlmostEqual(gx, expected.lon, places=9)
                self.assertAlmostEqual(gy, expected.lat, places=9)

    def test_bad_requests_are_explained(self) -> None:
        for params, code in (
            ({"bbox": "1,2,3"}, "400.90"),
            ({"bbox": "10,0,5,1"}, "400.90"),
            ({"zoom": "40"}, "400.90"),
            ({"vertical": "birds"}, "400.91"),
            ({"since": "yesterday"}, "400.91"),
            ({"area": "x"}, "400.91"),
        ):
            response = self.get("member", OBS, **params)
            self.assertEqual((response.status_code, response.json()["code"]), (400, code), params)

    def test_tracks_with_effort_simplified_to_the_zoom(self) -> None:
        body = self.get("viewer", TRACKS, bbox=PARK, zoom=12).json()
        self.assertEqual(len(body["features"]), 1)
        track = body["features"][0]
        self.assertGreater(track["properties"]["distance_km"], 7)
        self.assertIn(track["geometry"]["type"], {"LineString", "MultiLineString"})
        self.assertGreater(body["effort"]["km"], 7)
        self.assertEqual(self.get("outsider", TRACKS, bbox=PARK).json()["features"], [])
        self.assertEqual(self.get("law", TRACKS, bbox=PARK).json()["features"], [])
        self.assertEqual(self.get(None, TRACKS).status_code, 401)
        self.assertEqual(self.get("viewer", TRACKS, bbox="141,-9.2,141.6,-8.6").json()["features"], [])

    def test_tracks_reach_viewers_on_a_1_km_grid_only(self) -> None:
        # A track through the eagle's exact place.
        line = [(147.3, -9.5), (scene.EAGLE_LON, scene.EAGLE_LAT), (147.45, -9.35)]
        PatrolLegDay.objects.update(track=MultiLineString(LineString(line, srid=4326), srid=4326))

        def vertices(role: str, zoom: int) -> list[list[float]]:
            geometry = self.get(role, TRACKS, bbox=PARK, zoom=zoom).json()["features"][0]["geometry"]
            lines = (
                geometry["coordinates"]
                if geometry["type"] == "MultiLineString"
                else [geometry["coordinates"]]
            )
            return [point for part in lines for point in part]

        for zoom in (8, 12, 18, 22):
            shown = vertices("viewer", zoom)
            self.assertNotIn([scene.EAGLE_LON, scene.EAGLE_LAT], shown)
            for x, y in shown:
                self.assertAlmostEqual(x * 100, round(x * 100), places=6)
                self.assertAlmostEqual(y * 100, round(y * 100), places=6)
        self.assertIn([scene.EAGLE_LON, scene.EAGLE_LAT], vertices("member", 22))

    def test_a_wiggly_track_loses_vertices_at_low_zoom_only(self) -> None:
        # 400 vertices zigzagging 1 m either side of a line north.
        wiggle = [(147.36 + (0.00001 if i % 2 else -0.00001), -9.47 + i * 0.0002) for i in range(400)]
        PatrolLegDay.objects.update(track=MultiLineString(LineString(wiggle, srid=4326), srid=4326))

        def vertices(zoom: int) -> int:
            geometry = self.get("member", TRACKS, bbox=PARK, zoom=zoom).json()["features"][0]["geometry"]
            lines = (
                geometry["coordinates"]
                if geometry["type"] == "MultiLineString"
                else [geometry["coordinates"]]
            )
            return sum(len(line) for line in lines)

        self.assertLessEqual(vertices(8), 3)
        self.assertEqual(vertices(22), 400)


class ClusterCacheTest(TestCase):
    """Clusters are cached per block for users who see alike; new data makes new keys."""

    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        cls.second_viewer = scene.user("second_viewer", Role.VIEWER, cls.area)

    def counts(self, role: str) -> int:
        self.client.force_login(getattr(self, role))
        body = self.client.get(OBS, {"bbox": PARK, "zoom": 8}).json()
        return sum(f["properties"]["count"] for f in body["features"])

    def test_cached_answers_follow_the_data_and_the_user(self) -> None:
        self.assertEqual(self.counts("viewer"), 2)
        # Another user who sees alike is answered from the cache, in fewer queries.
        with CaptureQueriesContext(connection) as cached:
            self.assertEqual(self.counts("second_viewer"), 2)
        self.assertFalse(any("GROUP BY" in q["sql"] for q in cached.captured_queries))
        # Law enforcement sees otherwise: its own entry.
        self.assertEqual(self.counts("law"), 1)
        # A taxon made extreme: the viewer's clusters lose the eagle at once.
        self.eagle.sensitivity = Sensitivity.EXTREME
        self.eagle.save()
        self.assertEqual(self.counts("viewer"), 1)
        self.assertEqual(self.counts("member"), 2)

    def test_blocks_cover_the_view_whatever_its_edges(self) -> None:
        whole = self.counts("member")
        self.client.force_login(self.member)
        for shift in (0.013, 0.05, 0.11):
            box = f"{147.2 + shift},-9.6,{147.6 + shift},-9.3"
            body = self.client.get(OBS, {"bbox": box, "zoom": 8}).json()
            self.assertEqual(sum(f["properties"]["count"] for f in body["features"]), whole)
