"""GET /api/v1/exports/observations.csv and .geojson: streamed exports of field records that
hold to the access policy row by row. Read back with the csv and json modules and checked
against the database: a viewer gets no exact sensitive point and no personal field; members
and law enforcement get what they may read, and each such row leaves an AccessEvent with
action "export"; users of another area get none of this area's rows."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import AccessAction, AccessEvent
from exports import records
from observations.models import Observation
from tests import access_scene as scene

CSV = "/api/v1/exports/observations.csv"
GEOJSON = "/api/v1/exports/observations.geojson"
GEOPACKAGE = "/api/v1/exports/observations.gpkg"
EXACT = [f"{scene.EAGLE_LON}", f"{scene.EAGLE_LAT}", "147.3612", "-9.4231"]


class ExportObservationsTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def export(self, user: Any, url: str, **params: Any) -> Any:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self.client.get(url, params, HTTP_USER_AGENT="test-agent/1")

    def body(self, response: Any) -> str:
        self.assertEqual(response.status_code, 200, getattr(response, "content", b""))
        self.assertIsInstance(response, StreamingHttpResponse)
        return b"".join(response.streaming_content).decode("utf-8")

    def csv_rows(self, user: Any, **params: Any) -> tuple[str, list[dict[str, str]]]:
        text = self.body(self.export(user, CSV, **params))
        return text, list(csv.DictReader(io.StringIO(text)))

    def features(self, user: Any, **params: Any) -> tuple[str, list[dict[str, Any]]]:
        text = self.body(self.export(user, GEOJSON, **params))
        collection = json.loads(text)
        self.assertEqual(collection["type"], "FeatureCollection")
        return text, collection["features"]

    def assert_nothing_withheld_leaks(self, text: str) -> None:
        for needle in [*EXACT, scene.SUSPECT, scene.OBSERVER]:
            self.assertNotIn(needle, text)

    # --- What each user receives ----------------------------------------------------------

    def test_a_member_gets_every_record_of_the_area_with_exact_points_and_an_audit_row(self) -> None:
        text, rows = self.csv_rows(self.member)
        self.assertEqual(list(rows[0]), records.COLUMNS)  # no personal column for a member
        by_uuid = {row["record_uuid"]: row for row in rows}
        expected = Observation.objects.filter(area=self.area).order_by("time", "pk")
        self.assertEqual(list(by_uuid), [str(obs.record_uuid) for obs in expected])
        for obs in expected:
            row = by_uuid[str(obs.record_uuid)]
            self.assertEqual(row["time"], obs.time.isoformat())
            self.assertEqual(row["day"], obs.day.isoformat())
            self.assertEqual(row["area"], str(self.area.pk))
            self.assertEqual(row["vertical"], obs.vertical)
            self.assertEqual(row["category"], obs.category_id)
            self.assertEqual(float(row["longitude"]), obs.location.x)
            self.assertEqual(float(row["latitude"]), obs.location.y)
        eagle = by_uuid[str(self.eagle_obs.record_uuid)]
        self.assertEqual(eagle["taxon"], self.eagle.scientific_name)
        self.assertEqual(eagle["dataGeneralizations"], "")
        cassowary = by_uuid[str(self.cassowary_obs.record_uuid)]
        self.assertEqual(cassowary["taxon"], self.cassowary.scientific_name)
        self.assertEqual(cassowary["individualCount"], "1")
        self.assertNotIn(scene.SUSPECT, text)
        self.assertNotIn(scene.OBSERVER, text)
        event = AccessEvent.objects.get(user=self.member)
        self.assertEqual(
            (event.action, event.object_id, event.fields, event.path, event.area_id),
            (AccessAction.EXPORT, str(self.eagle_obs.pk), ["location"], CSV, self.area.pk),
        )

    def test_law_enforcement_gets_the_illicit_records_with_personal_fields(self) -> None:
        _, rows = self.csv_rows(self.law)
        self.assertEqual([row["record_uuid"] for row in rows], [str(self.eagle_obs.record_uuid)])
        self.assertEqual(list(rows[0]), [*records.COLUMNS, "observer", "suspect_names"])
        self.assertEqual((rows[0]["observer"], rows[0]["suspect_names"]), (scene.OBSERVER, scene.SUSPECT))
        self.assertEqual(
            (float(rows[0]["longitude"]), float(rows[0]["latitude"])), (scene.EAGLE_LON, scene.EAGLE_LAT)
        )
        event = AccessEvent.objects.get(user=self.law)
        self.assertEqual(event.action, AccessAction.EXPORT)
        self.assertEqual(event.fields, ["location", "observer", "suspect_names"])

    def test_a_viewer_gets_no_exact_sensitive_point_nor_personal_field(self) -> None:
        text, rows = self.csv_rows(self.viewer)
        self.assertEqual(len(rows), Observation.objects.filter(area=self.area).count())
        self.assert_nothing_withheld_leaks(text)
        self.assertEqual(list(rows[0]), records.COLUMNS)
        eagle = next(row for row in rows if row["record_uuid"] == str(self.eagle_obs.record_uuid))
        self.assertEqual((eagle["longitude"], eagle["latitude"]), ("147.365", "-9.425"))
        self.assertIn("0.01° grid cell", eagle["dataGeneralizations"])
        self.assertEqual(eagle["zone"], "")
        self.assertGreaterEqual(float(eagle["coordinateUncertaintyInMeters"]), 780)
        geo_text, features = self.features(self.viewer)
        self.assertEqual(len(features), len(rows))
        self.assert_nothing_withheld_leaks(geo_text)
        self.assertFalse(AccessEvent.objects.filter(user=self.viewer).exists())

    def test_users_of_another_area_get_none_of_its_rows(self) -> None:
        for user in (self.outsider, self.outside_law):
            _, rows = self.csv_rows(user)
            self.assertEqual(rows, [])
            _, features = self.features(user)
            self.assertEqual(features, [])

    def test_national_law_enforcement_and_superusers(self) -> None:
        _, rows = self.csv_rows(self.national_law)
        self.assertEqual([row["record_uuid"] for row in rows], [str(self.eagle_obs.record_uuid)])
        _, rows = self.csv_rows(self.admin)
        self.assertEqual(len(rows), Observation.objects.count())

    def test_who_may_export_nowhere_is_refused(self) -> None:
        for user in (self.collector, self.nobody):
            for url in (CSV, GEOJSON):
                response = self.export(user, url)
                self.assertEqual((response.status_code, response.json()["code"]), (403, "403.85"))
        self.assertEqual(self.export(None, CSV).status_code, 401)

    # --- GeoJSON --------------------------------------------------------------------------

    def test_the_geojson_holds_the_same_rows_as_points(self) -> None:
        _, features = self.features(self.member)
        expected = Observation.objects.filter(area=self.area).order_by("time", "pk")
        self.assertEqual([f["id"] for f in features], [str(obs.record_uuid) for obs in expected])
        for feature, obs in zip(features, expected, strict=True):
            self.assertEqual(
                feature["geometry"], {"type": "Point", "coordinates": [obs.location.x, obs.location.y]}
            )
            self.assertEqual(feature["properties"]["category"], obs.category_id)
            self.assertEqual(feature["properties"]["day"], obs.day.isoformat())
        self.assertEqual(AccessEvent.objects.filter(user=self.member, action=AccessAction.EXPORT).count(), 1)

    # --- Filters --------------------------------------------------------------------------

    def uuids(self, **params: Any) -> set[str]:
        return {row["record_uuid"] for row in self.csv_rows(self.member, **params)[1]}

    def test_filters(self) -> None:
        eagle, cassowary = str(self.eagle_obs.record_uuid), str(self.cassowary_obs.record_uuid)
        day = self.eagle_obs.day.isoformat()
        self.assertEqual(self.uuids(), {eagle, cassowary})
        self.assertEqual(self.uuids(vertical="illicit"), {eagle})
        self.assertEqual(self.uuids(category="animals"), {cassowary})
        self.assertEqual(self.uuids(category="human_activity"), {eagle})
        self.assertEqual(self.uuids(since=day, until=day), {eagle, cassowary})
        self.assertEqual(self.uuids(since="2024-05-15"), set())
        self.assertEqual(self.uuids(until="2024-05-13"), set())
        self.assertEqual(self.uuids(area=self.area.pk), {eagle, cassowary})
        self.assertEqual(self.uuids(area=self.other_area.pk), set())
        zone = self.cassowary_obs.zone_id
        if zone is not None:
            self.assertIn(cassowary, self.uuids(zone=zone))
        self.assertEqual(self.uuids(zone=999999), set())

    def test_a_bad_filter_gets_its_catalogue_error(self) -> None:
        for params in (
            {"vertical": "birds"},
            {"since": "yesterday"},
            {"area": "x"},
            {"zone": "-1"},
            {"category": "no_such_category"},
            {"since": "2024-06-01", "until": "2024-05-01"},
        ):
            for url in (CSV, GEOJSON):
                response = self.export(self.member, url, **params)
                self.assertEqual((response.status_code, response.json()["code"]), (400, "400.85"), params)

    # --- Streaming, and a cost that does not grow with the rows -----------------------------

    def add_copies(self, total: int) -> None:
        """Copies of the cassowary record until the area holds `total` records."""
        while Observation.objects.filter(area=self.area).count() < total:
            copy = Observation.objects.get(pk=self.cassowary_obs.pk)
            copy.pk = None
            copy.record_uuid = uuid.uuid4()
            copy.save()

    def queries_for(self, url: str) -> int:
        self.client.force_login(self.member)
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url)
            self.assertIsInstance(response, StreamingHttpResponse)
            b"".join(response.streaming_content)
        return len(captured)

    def test_the_query_count_does_not_grow_with_the_rows(self) -> None:
        for url in (CSV, GEOJSON):
            self.add_copies(5)
            few = self.queries_for(url)
            self.add_copies(50)
            many = self.queries_for(url)
            self.assertEqual(few, many, url)
            Observation.objects.filter(area=self.area).exclude(
                pk__in=[self.eagle_obs.pk, self.cassowary_obs.pk]
            ).delete()
        _, rows = self.csv_rows(self.member)
        self.assertEqual(len(rows), 2)


class ExportObservationsGeoPackageTest(TestCase):
    """GET /api/v1/exports/observations.gpkg, read back with geopandas (pyogrio)."""

    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def read(self, user: Any, **params: Any) -> Any:
        import geopandas

        self.client.force_login(user)
        response = self.client.get(GEOPACKAGE, params)
        self.assertEqual(response.status_code, 200)
        self.assertIsInstance(response, FileResponse)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.gpkg"
            path.write_bytes(b"".join(response.streaming_content))
            return geopandas.read_file(path, layer="observations")

    def test_a_member_gets_the_records_as_points(self) -> None:
        frame = self.read(self.member)
        expected = list(Observation.objects.filter(area=self.area).order_by("time", "pk"))
        self.assertEqual(list(frame["record_uuid"]), [str(obs.record_uuid) for obs in expected])
        self.assertEqual(frame.crs.to_epsg(), 4326)
        for (_, row), obs in zip(frame.iterrows(), expected, strict=True):
            self.assertAlmostEqual(row.geometry.x, obs.location.x)
            self.assertAlmostEqual(row.geometry.y, obs.location.y)
            self.assertEqual(row["category"], obs.category_id)
            self.assertEqual(row["area"], self.area.pk)
        self.assertEqual(AccessEvent.objects.get(user=self.member).action, AccessAction.EXPORT)

    def test_a_viewer_gets_generalised_points_and_no_personal_field(self) -> None:
        frame = self.read(self.viewer)
        self.assertEqual(len(frame), 2)
        self.assertNotIn("observer", frame.columns)
        self.assertNotIn("suspect_names", frame.columns)
        eagle = frame[frame["record_uuid"] == str(self.eagle_obs.record_uuid)].iloc[0]
        self.assertEqual((eagle.geometry.x, eagle.geometry.y), (147.365, -9.425))
        self.assertIn("0.01° grid cell", eagle["dataGeneralizations"])

    def test_law_enforcement_gets_personal_fields_and_an_empty_export_is_a_layer(self) -> None:
        frame = self.read(self.law)
        self.assertEqual(list(frame["suspect_names"]), [scene.SUSPECT])
        self.assertEqual(list(frame["observer"]), [scene.OBSERVER])
        self.assertEqual(len(self.read(self.law, since="2030-01-01")), 0)

    def test_rows_written_in_chunks(self) -> None:
        for _ in range(4):
            copy = Observation.objects.get(pk=self.cassowary_obs.pk)
            copy.pk, copy.record_uuid = None, uuid.uuid4()
            copy.save()
        with mock.patch.object(records, "CHUNK", 2):
            frame = self.read(self.member)
        self.assertEqual(len(frame), 6)
        self.assertEqual(len(set(frame["record_uuid"])), 6)
