"""GET /api/v1/exports/<kind>.<format> and the export jobs (/api/v1/exports/jobs/…,
/exports/): every record kind in CSV, XLSX, GeoJSON, GeoPackage, zipped Shapefile and KML,
read back by an independent reader (csv, openpyxl, json, pyogrio) and checked against the
database; the fast observation CSV (COPY on PostGIS) equal to the rows built by
observations.api.feature; a viewer's files hold no exact sensitive point and no personal
field; users of another area get none of the area's rows; jobs belong to their owner only
and expire."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.test import TestCase, override_settings
from django.utils import timezone

from accounts.models import AccessAction, AccessEvent
from exports import jobs, records
from exports.models import ExportJob
from observations.models import Observation, PatrolLegDay, SpeciesObservation
from tests import access_scene as scene

FORMATS = ["csv", "xlsx", "geojson", "gpkg", "shp.zip", "kml"]
EXACT = [f"{scene.EAGLE_LON}", f"{scene.EAGLE_LAT}"]


def read_back(fmt: str, content: bytes) -> list[dict[str, Any]]:
    """The rows of an export file as dicts, through a reader that is not ours."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode())))
    if fmt == "geojson":
        return [{**f["properties"], "_geometry": f["geometry"]} for f in json.loads(content)["features"]]
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        # A read-only sheet leaves out a row's empty cells at its end.
        return [dict(zip(values[0], [*row, *[None] * len(values[0])], strict=False)) for row in values[1:]]
    import pyogrio

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        path.write_bytes(content)
        if fmt == "shp.zip":
            names = dict(csv.reader(io.StringIO(zipfile.ZipFile(path).read("fields.csv").decode())))
            frame = pyogrio.read_dataframe(f"zip://{path}")
            frame = frame.rename(columns=names)
        else:
            frame = pyogrio.read_dataframe(path)
    return [
        {**{k: v for k, v in row.items() if k != "geometry"}, "_geometry": row.get("geometry")}
        for row in frame.to_dict("records")
    ]


def lon(row: dict[str, Any]) -> float:
    """The longitude of an observation row: its column, or its point (GeoJSON)."""
    if row.get("longitude") not in (None, ""):
        return float(row["longitude"])
    geometry = row["_geometry"]
    return float(geometry["coordinates"][0] if isinstance(geometry, dict) else geometry.x)


class RecordExportsTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def get(self, user: Any, url: str, **params: Any) -> Any:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self.client.get(url, params, HTTP_USER_AGENT="test-agent/1")

    def content(self, response: Any) -> bytes:
        self.assertEqual(response.status_code, 200, getattr(response, "content", b"")[:300])
        return b"".join(response.streaming_content)

    def rows(self, user: Any, kind: str, fmt: str, **params: Any) -> tuple[bytes, list[dict[str, Any]]]:
        body = self.content(self.get(user, f"/api/v1/exports/{kind}.{fmt}", **params))
        return body, read_back(fmt, body)

    # --- The fast CSV equals the rows observations.api.feature builds ------------------------

    def slow_rows(self, user: Any, **params: Any) -> list[dict[str, str]]:
        request = type("R", (), {"user": user, "META": {}, "path": ""})()
        text = "".join(records.csv_lines(request, records.filters_of(params)))
        return list(csv.DictReader(io.StringIO(text)))

    def assert_same(self, fast: list[dict[str, str]], slow: list[dict[str, str]]) -> None:
        self.assertEqual(len(fast), len(slow))
        for a, b in zip(fast, slow, strict=True):
            self.assertEqual(list(a), list(b))
            for key in a:
                try:
                    self.assertEqual(float(a[key]), float(b[key]), key)
                except ValueError:
                    self.assertEqual(a[key], b[key], key)

    def test_the_fast_csv_equals_the_policy_rows_for_every_role(self) -> None:
        # More sensitive points at every level, on and off cell edges, both hemispheres.
        points = [(147.3, -9.4), (147.35, -9.45), (147.39999999, -9.40000001), (147.30000000000001, -9.3),
                  (147.3612, -9.4231), (147.399, -9.401)]  # fmt: skip
        for i, (lon, lat) in enumerate(points):
            copy = Observation.objects.get(pk=self.eagle_obs.pk)
            copy.pk = None
            copy.record_uuid = uuid.uuid4()
            copy.location = type(copy.location)(lon, lat, srid=4326)
            copy.accuracy_m = 3.5 * i
            copy.save()
            SpeciesObservation.objects.create(
                observation=copy, taxon=self.eagle, taxon_name="", individual_count=1
            )
        for level in (1, 2, 3, 4):
            self.eagle.sensitivity = level
            self.eagle.save()
            for user in (self.member, self.viewer, self.law, self.national_viewer, self.admin):
                fast = list(
                    csv.DictReader(
                        io.StringIO(self.content(self.get(user, "/api/v1/exports/observations.csv")).decode())
                    )
                )
                self.assert_same(fast, self.slow_rows(user))

    def test_the_export_audit_is_written_in_bulk_as_the_policy_rows_say(self) -> None:
        for user in (self.law, self.member, self.manager, self.admin, self.viewer):
            start = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.content(self.get(user, "/api/v1/exports/observations.csv"))
            fast = AccessEvent.objects.filter(id__gt=start)
            got = {(e.object_id, tuple(e.fields)) for e in fast}
            for event in fast:
                self.assertEqual(event.action, AccessAction.EXPORT)
                self.assertEqual((event.user_id, event.username), (user.pk, user.username))
                self.assertEqual(event.user_agent, "test-agent/1")
                self.assertEqual(event.path, "/api/v1/exports/observations.csv")
                self.assertEqual(event.area_id, self.area.pk)
            middle = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.slow_rows(user)
            slow = {(e.object_id, tuple(e.fields)) for e in AccessEvent.objects.filter(id__gt=middle)}
            self.assertEqual(got, slow, user.username)
            if user in (self.law, self.admin):
                self.assertIn(str(self.eagle_obs.pk), {object_id for object_id, _ in got})
            if user is self.viewer:
                self.assertEqual(got, set())

    # --- Every kind in every format -----------------------------------------------------------

    def test_every_format_of_observations_read_back(self) -> None:
        expected = {str(o.record_uuid): o for o in Observation.objects.filter(area=self.area)}
        for fmt in FORMATS:
            _, rows = self.rows(self.member, "observations", fmt)
            self.assertEqual({r["record_uuid"] for r in rows}, set(expected), fmt)
            for row in rows:
                obs = expected[row["record_uuid"]]
                self.assertEqual(row["category"], obs.category_id, fmt)
                self.assertEqual(int(float(row["area"])), self.area.pk, fmt)
                self.assertAlmostEqual(lon(row), obs.location.x, 9)

    def test_leg_days_have_their_tracks_as_lines(self) -> None:
        days = PatrolLegDay.objects.filter(patrol__area=self.area)
        self.assertTrue(days.exists())
        for fmt in FORMATS:
            _, rows = self.rows(self.member, "leg-days", fmt)
            self.assertEqual({r["record_uuid"] for r in rows}, {str(d.record_uuid) for d in days}, fmt)
            for row in rows:
                day = days.get(record_uuid=row["record_uuid"])
                self.assertAlmostEqual(float(row["distance_km"]), day.distance_km, 6)
                if fmt in ("csv", "xlsx"):
                    self.assertTrue(row["wkt"].startswith("MULTILINESTRING"))
                elif fmt == "geojson":
                    self.assertEqual(row["_geometry"]["type"], "MultiLineString")
                else:
                    self.assertIn("LineString", row["_geometry"].geom_type)
                self.assertFalse(row.get("leader"))  # a member does not read rangers' names

    def test_every_kind_answers_in_csv_and_xlsx(self) -> None:
        from observations.models import BudgetLine, BudgetReturn, METTAssessment, METTScore

        sub = self.eagle_obs.submission
        common = {
            "submission": sub,
            "root_submission": sub,
            "form_version_id": self.eagle_obs.form_version_id,
        }
        mett = METTAssessment.objects.create(area=self.area, year=2024, **common)
        METTScore.objects.create(assessment=mett, question="q01", element="context", score=2)
        budget = BudgetReturn.objects.create(area=self.area, fiscal_year=2024, **common)
        BudgetLine.objects.create(budget=budget, kind="income", category="government", planned=1000)
        for kind, n in [("patrols", 1), ("mett", 1), ("budgets", 1), ("budget-lines", 1), ("species", 1),
                        ("illicit-activity", 1), ("resource-use", 0)]:  # fmt: skip
            for fmt in ("csv", "xlsx", "gpkg"):
                _, rows = self.rows(self.member, kind, fmt)
                self.assertEqual(len(rows), n, (kind, fmt))
            _, rows = self.rows(self.outsider, kind, "csv")
            self.assertEqual(rows, [], kind)
        self.assertEqual(self.get(self.member, "/api/v1/exports/budgets.kml").json()["code"], "400.87")
        self.assertEqual(
            self.get(self.member, "/api/v1/exports/budgets.csv", zone=1).json()["code"], "400.86"
        )
        self.assertEqual(
            self.get(self.member, "/api/v1/exports/species.csv", vertical="illicit").json()["code"], "400.86"
        )

    def test_a_viewer_gets_no_exact_point_nor_personal_field_in_any_format(self) -> None:
        for kind in ("observations", "species", "illicit-activity", "leg-days"):
            for fmt in FORMATS:
                body, rows = self.rows(self.viewer, kind, fmt)
                if fmt in ("csv", "geojson"):
                    for needle in [*EXACT, scene.SUSPECT, scene.OBSERVER]:
                        self.assertNotIn(needle.encode(), body, (kind, fmt))
                for row in rows:
                    for column in ("observer", "suspect_names", "leader", "ranger_names"):
                        self.assertFalse(row.get(column), (kind, fmt, column))
                    if kind != "leg-days" and row["record_uuid"] == str(self.eagle_obs.record_uuid):
                        self.assertNotAlmostEqual(lon(row), scene.EAGLE_LON, 6)

    def test_law_enforcement_and_outsiders(self) -> None:
        _, rows = self.rows(self.law, "illicit-activity", "csv")
        self.assertEqual([r["suspect_names"] for r in rows], [scene.SUSPECT])
        self.assertEqual(self.rows(self.law, "leg-days", "csv")[1], [])
        for user in (self.outsider, self.outside_law):
            for kind in ("observations", "illicit-activity", "leg-days"):
                self.assertEqual(self.rows(user, kind, "geojson")[1], [], (user, kind))
        self.assertEqual(self.get(self.nobody, "/api/v1/exports/patrols.csv").status_code, 403)
        self.assertEqual(self.get(None, "/api/v1/exports/patrols.csv").status_code, 401)

    # --- Jobs -------------------------------------------------------------------------------------

    @override_settings(EXPORT_STREAM_MAX_ROWS=0)
    def test_a_large_export_is_a_job_its_owner_downloads_until_it_expires(self) -> None:
        self.client.force_login(self.member)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.get("/api/v1/exports/observations.xlsx")
        self.assertEqual(response.status_code, 202)
        job_id = response.json()["id"]
        status = self.client.get(f"/api/v1/exports/jobs/{job_id}/").json()
        self.assertEqual((status["status"], status["rows"], status["total"]), ("done", 2, 2))
        page = self.client.get("/exports/")
        self.assertContains(page, f"/api/v1/exports/jobs/{job_id}/download")
        download = self.client.get(status["download_url"])
        rows = read_back("xlsx", b"".join(download.streaming_content))
        self.assertEqual(len(rows), 2)
        for user in (self.viewer, self.outsider):
            self.client.force_login(user)
            self.assertEqual(self.client.get(f"/api/v1/exports/jobs/{job_id}/").json()["code"], "404.86")
            self.assertEqual(self.client.get(status["download_url"]).status_code, 404)
            self.assertNotContains(self.client.get("/exports/"), f"/jobs/{job_id}/")
        self.client.logout()
        self.assertEqual(self.client.get(status["download_url"]).status_code, 401)
        self.client.force_login(self.member)
        job = ExportJob.objects.get(pk=job_id)
        name = job.file.name
        self.assertEqual(jobs.expire_jobs(timezone.now() + timedelta(days=30)), 1)
        self.assertFalse(job.file.storage.exists(name))
        self.assertEqual(self.client.get(status["download_url"]).json()["code"], "410.86")

    def test_a_job_not_done_is_409(self) -> None:
        job = ExportJob.objects.create(owner=self.member, kind="patrols", format="csv", params={})
        self.client.force_login(self.member)
        self.assertEqual(self.client.get(f"/api/v1/exports/jobs/{job.pk}/download").json()["code"], "409.86")
        self.assertEqual(jobs.run_job(job.pk).status, ExportJob.Status.DONE)  # type: ignore[union-attr]
        self.assertIsNone(jobs.run_job(job.pk))  # claimed once only
