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


# --- Every kind, every format, every value against the database --------------------------------


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)


def same_value(expected: Any, got: Any) -> bool:
    """Whether a value read back from a file is the database's value (each reader gives its
    own types: text in CSV, numbers in a workbook, pandas' types from GDAL)."""
    from datetime import date, datetime
    from decimal import Decimal

    if hasattr(got, "item") and not isinstance(got, str | bytes):
        got = got.item()  # a numpy scalar
    if _missing(expected):
        return _missing(got)
    if _missing(got):
        return False
    if isinstance(expected, bool):
        return str(got).lower() in (("true", "1") if expected else ("false", "0"))
    if isinstance(expected, int | float | Decimal):
        try:
            return abs(float(got) - float(expected)) <= 1e-9 * max(1.0, abs(float(expected)))
        except ValueError:
            return False
    if isinstance(expected, datetime):
        got = got if isinstance(got, datetime) else datetime.fromisoformat(str(got).replace("Z", "+00:00"))
        return got == expected
    if isinstance(expected, date):
        return str(got)[:10] == expected.isoformat()
    return str(got) == str(expected)


def same_geometry(expected: Any, got: Any) -> bool:
    """Whether a geometry read back (WKT text, a GeoJSON dict or a shapely geometry) is the
    database's GEOS geometry, to 1e-9 degrees."""
    import shapely

    if expected is None:
        return _missing(got)
    if isinstance(got, str):
        got = shapely.from_wkt(got)
    elif isinstance(got, dict):
        got = shapely.geometry.shape(got)
    want = shapely.from_wkt(expected.wkt)
    if want.geom_type != got.geom_type:
        want = shapely.multilinestrings([want]) if want.geom_type == "LineString" else want
        got = shapely.multilinestrings([got]) if got.geom_type == "LineString" else got
    return bool(shapely.equals_exact(want, got, tolerance=1e-9))


class RecordValuesReadBackTest(TestCase):
    """Each kind in each of its formats, read back by csv, openpyxl, json and pyogrio (GDAL),
    every column of every row compared with the record read from the database through the
    models (not through the export's own queries)."""

    @classmethod
    def setUpTestData(cls) -> None:
        from observations.models import (
            BudgetLine,
            BudgetReturn,
            METTAssessment,
            METTScore,
            ResourceUse,
            Vertical,
        )

        scene.build(cls)
        sub = cls.eagle_obs.submission
        common = {"submission": sub, "root_submission": sub, "form_version_id": cls.eagle_obs.form_version_id}
        mett = METTAssessment.objects.create(
            area=cls.area, year=2024, version="4", score_total=40, score_max=102, **common
        )
        METTScore.objects.create(
            assessment=mett,
            question="q01",
            element="context",
            score=2,
            comment="Gazetted in 1973, «boundary» disputed",
            next_steps="Survey",
        )
        METTScore.objects.create(assessment=mett, question="q02", element="planning", score=1, is_bonus=True)
        budget = BudgetReturn.objects.create(
            area=cls.area,
            fiscal_year=2024,
            currency="PGK",
            staff_count=12,
            ranger_count=8,
            need_basic=47000,
            need_optimal=90000.5,
            notes="Fuel costs up",
            **common,
        )
        BudgetLine.objects.create(
            budget=budget, kind="income", category="government", planned=1000, actual=950.25
        )
        BudgetLine.objects.create(budget=budget, kind="expense", category="patrol_operations", planned=700)
        use = Observation.objects.get(pk=cls.cassowary_obs.pk)
        use.pk, use.record_uuid = None, uuid.uuid4()
        use.vertical, use.category_id = Vertical.RESOURCE_USE, "human_activity.timber.logs"
        use.save()
        ResourceUse.objects.create(
            observation=use,
            kind="timber",
            quantity=3.5,
            unit="logs",
            purpose="commercial",
            permitted=False,
            users="outsiders",
        )

    def rows(self, user: Any, kind: str, fmt: str) -> list[dict[str, Any]]:
        self.client.force_login(user)
        response = self.client.get(f"/api/v1/exports/{kind}.{fmt}")
        self.assertEqual(response.status_code, 200, (kind, fmt, getattr(response, "content", b"")[:300]))
        return read_back(fmt, b"".join(response.streaming_content))

    # The database's rows of each kind: key -> {column: value}, "_geometry" the GEOS geometry.

    def observations(self, vertical: str | None = None) -> dict[str, dict[str, Any]]:
        rows = Observation.objects.filter(area=self.area)
        if vertical:
            rows = rows.filter(vertical=vertical)
        out = {}
        for obs in rows:
            species = getattr(obs, "species", None) if hasattr(obs, "species") else None
            row: dict[str, Any] = {
                "time": obs.time,
                "day": obs.day,
                "area": obs.area_id,
                "zone": obs.zone_id,
                "vertical": obs.vertical,
                "category": obs.category_id,
                "count": obs.count,
                "latitude": obs.location.y,
                "longitude": obs.location.x,
                "coordinateUncertaintyInMeters": obs.accuracy_m,
                "taxon": (species.taxon.scientific_name if species.taxon else species.taxon_name)
                if species
                else None,
                "individualCount": species.individual_count if species else None,
                "_geometry": obs.location,
            }
            if vertical == "biodiversity":
                assert species is not None
                row.update(
                    taxon_name=species.taxon_name,
                    iucn_category=species.taxon.iucn_category if species.taxon else None,
                    adult_males=species.adult_males,
                    adult_females=species.adult_females,
                    juveniles=species.juveniles,
                    unknown_age_sex=species.unknown_age_sex,
                    evidence=species.evidence,
                    is_occurrence=species.is_occurrence,
                )
            elif vertical == "illicit":
                row.update(
                    suspects=obs.illicit.suspects,
                    infraction=obs.illicit.infraction,
                    threat=obs.illicit.threat,
                )
            elif vertical == "resource_use":
                use = obs.resource_use
                row.update(
                    resource_kind=use.kind,
                    quantity=use.quantity,
                    unit=use.unit,
                    purpose=use.purpose,
                    permitted=use.permitted,
                    users=use.users,
                )
            out[str(obs.record_uuid)] = row
        return out

    def patrols(self) -> dict[str, dict[str, Any]]:
        from observations.models import Patrol

        return {
            str(p.record_uuid): {
                "patrol_id": p.patrol_id,
                "area": p.area_id,
                "station": p.station,
                "team": p.team,
                "objective": p.objective,
                "armed": p.armed,
                "start": p.start,
                "end": p.end,
                "legs": p.legs.count(),
                "notes": p.notes,
            }
            for p in Patrol.objects.filter(area=self.area)
        }

    def leg_days(self, manager: bool) -> dict[str, dict[str, Any]]:
        out = {}
        for d in PatrolLegDay.objects.filter(patrol__area=self.area).select_related("leg", "patrol"):
            out[str(d.record_uuid)] = {
                "patrol_uuid": str(d.patrol.record_uuid),
                "patrol_id": d.patrol.patrol_id,
                "area": d.patrol.area_id,
                "leg": d.leg.number,
                "transport": d.leg.transport,
                "day": d.day,
                "start": d.start,
                "end": d.end,
                "distance_km": d.distance_km,
                "patrol_hours": d.patrol_hours,
                "field_hours": d.field_hours,
                "members": d.members,
                "person_days": d.person_days,
                "_geometry": d.track,
            }
            if manager:
                out[str(d.record_uuid)].update(leader=d.leg.leader, ranger_names=d.leg.members)
        return out

    def mett(self) -> dict[str, dict[str, Any]]:
        from observations.models import METTScore

        return {
            f"{s.assessment.record_uuid}/{s.question}": {
                "area": s.assessment.area_id,
                "year": s.assessment.year,
                "version": s.assessment.version,
                "assessed_on": s.assessment.assessed_on,
                "score_total": s.assessment.score_total,
                "score_max": s.assessment.score_max,
                "element": s.element,
                "second_element": s.second_element,
                "is_bonus": s.is_bonus,
                "score": s.score,
                "comment": s.comment,
                "next_steps": s.next_steps,
            }
            for s in METTScore.objects.filter(assessment__area=self.area).select_related("assessment")
        }

    def budgets(self) -> dict[str, dict[str, Any]]:
        from observations.models import BudgetReturn

        return {
            str(b.record_uuid): {
                "area": b.area_id,
                "fiscal_year": b.fiscal_year,
                "fiscal_year_start": b.fiscal_year_start,
                "currency": b.currency,
                "staff_count": b.staff_count,
                "ranger_count": b.ranger_count,
                "need_basic": b.need_basic,
                "need_optimal": b.need_optimal,
                "notes": b.notes,
            }
            for b in BudgetReturn.objects.filter(area=self.area)
        }

    def budget_lines(self) -> dict[str, dict[str, Any]]:
        from observations.models import BudgetLine

        return {
            f"{b.budget.record_uuid}/{b.kind}/{b.category}": {
                "area": b.budget.area_id,
                "fiscal_year": b.budget.fiscal_year,
                "currency": b.budget.currency,
                "planned": b.planned,
                "actual": b.actual,
            }
            for b in BudgetLine.objects.filter(budget__area=self.area).select_related("budget")
        }

    def check(
        self, kind: str, fmt: str, expected: dict[str, dict[str, Any]], key: Any, user: Any = None
    ) -> None:
        rows = self.rows(user or self.member, kind, fmt)
        self.assertTrue(expected, kind)
        self.assertEqual(len(rows), len(expected), (kind, fmt))
        self.assertEqual({key(r) for r in rows}, set(expected), (kind, fmt))
        wrong = []
        for row in rows:
            for column, value in expected[key(row)].items():
                if column == "_geometry":
                    if fmt in ("csv", "xlsx"):
                        if value.geom_type == "Point":
                            continue  # its latitude and longitude columns
                        got = row.get("wkt")
                    else:
                        got = row["_geometry"]
                    ok = same_geometry(value, got)
                elif column == "ranger_names":
                    got = row.get(column)
                    ok = json.loads(got) == value
                elif column in ("latitude", "longitude") and fmt not in ("csv", "xlsx") and column not in row:
                    continue  # the point is the geometry, checked with it
                else:
                    got = row.get(column, "<no column>")
                    ok = same_value(value, got)
                if not ok:
                    wrong.append((column, value, got))
        self.assertEqual(wrong, [], (kind, fmt))

    def test_observations_of_every_vertical(self) -> None:
        by_uuid = lambda r: str(r["record_uuid"])  # noqa: E731
        for fmt in FORMATS:
            self.check("observations", fmt, self.observations(), by_uuid)
            self.check("species", fmt, self.observations("biodiversity"), by_uuid)
            self.check("illicit-activity", fmt, self.observations("illicit"), by_uuid)
            self.check("resource-use", fmt, self.observations("resource_use"), by_uuid)

    def test_leg_days_with_their_tracks_and_for_a_manager_their_rangers(self) -> None:
        by_uuid = lambda r: str(r["record_uuid"])  # noqa: E731
        for fmt in FORMATS:
            self.check("leg-days", fmt, self.leg_days(manager=False), by_uuid)
            self.check("leg-days", fmt, self.leg_days(manager=True), by_uuid, user=self.manager)

    def test_a_viewer_gets_no_exact_point_nor_personal_field_in_any_kind_or_format(self) -> None:
        from exports.kinds import KINDS

        self.eagle.sensitivity = 2  # high: 0.1° cells
        self.eagle.save()
        personal = {"observer", "suspect_names", "leader", "ranger_names"}
        exact = [value.encode() for value in [*EXACT, scene.SUSPECT, scene.OBSERVER, "Mary Gabi"]]
        for name, kind in KINDS.items():
            for fmt in FORMATS if kind.geometry else ("csv", "xlsx", "geojson", "gpkg"):
                self.client.force_login(self.viewer)
                response = self.client.get(f"/api/v1/exports/{name}.{fmt}")
                self.assertEqual(response.status_code, 200, (name, fmt))
                body = b"".join(response.streaming_content)
                if fmt in ("csv", "geojson"):
                    self.assertEqual([n for n in exact if n in body], [], (name, fmt))
                for row in read_back(fmt, body):
                    self.assertEqual(personal & set(row), set(), (name, fmt))
                    if row.get("record_uuid") == str(self.eagle_obs.record_uuid):
                        self.assertNotAlmostEqual(lon(row), scene.EAGLE_LON, 6)
                        self.assertAlmostEqual(lon(row), 147.35, 9)  # the cell's centre
        self.assertFalse(AccessEvent.objects.filter(user=self.viewer).exists())

    def test_exact_points_and_personal_fields_exported_are_audited_in_every_format(self) -> None:
        days = {str(d.pk) for d in PatrolLegDay.objects.filter(patrol__area=self.area)}
        for fmt in FORMATS:
            for user, kind, object_ids, fields in (
                (self.manager, "leg-days", days, ["leader", "ranger_names"]),
                (
                    self.law,
                    "illicit-activity",
                    {str(self.eagle_obs.pk)},
                    ["location", "observer", "suspect_names"],
                ),
            ):
                start = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
                self.rows(user, kind, fmt)
                events = AccessEvent.objects.filter(id__gt=start)
                self.assertEqual({e.object_id for e in events}, object_ids, (kind, fmt))
                for event in events:
                    self.assertEqual((event.user_id, event.action), (user.pk, AccessAction.EXPORT))
                    self.assertEqual(sorted(event.fields), fields, (kind, fmt))
                    self.assertEqual(event.path, f"/api/v1/exports/{kind}.{fmt}")
        # A member reads no ranger's name and no suspect: nothing to record for leg-days.
        start = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        self.rows(self.member, "leg-days", "gpkg")
        self.assertFalse(AccessEvent.objects.filter(id__gt=start).exists())

    @override_settings(EXPORT_STREAM_MAX_ROWS=1)
    def test_a_large_observation_geopackage_is_a_job_too(self) -> None:
        self.client.force_login(self.member)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.get("/api/v1/exports/observations.gpkg")
        self.assertEqual(response.status_code, 202)
        status = self.client.get(f"/api/v1/exports/jobs/{response.json()['id']}/").json()
        self.assertEqual((status["status"], status["rows"]), ("done", status["total"]))
        self.assertGreater(status["total"], 1)
        with self.settings(EXPORT_STREAM_MAX_ROWS=10**6):
            self.assertEqual(self.client.get("/api/v1/exports/observations.gpkg").status_code, 200)

    @override_settings(EXPORT_STREAM_MAX_ROWS=0)
    def test_an_export_job_is_audited_as_its_owner_asked_for_it(self) -> None:
        self.client.force_login(self.manager)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.get("/api/v1/exports/leg-days.kml", HTTP_USER_AGENT="agent/2")
        self.assertEqual(response.status_code, 202)
        events = AccessEvent.objects.filter(user=self.manager, action=AccessAction.EXPORT)
        self.assertEqual(
            {e.object_id for e in events},
            {str(d.pk) for d in PatrolLegDay.objects.filter(patrol__area=self.area)},
        )
        self.assertEqual(
            {(e.path, e.user_agent) for e in events}, {("/api/v1/exports/leg-days.kml", "agent/2")}
        )

    def test_patrols_mett_and_budgets(self) -> None:
        for fmt in ("csv", "xlsx", "geojson", "gpkg"):
            self.check("patrols", fmt, self.patrols(), lambda r: str(r["record_uuid"]))
            self.check("mett", fmt, self.mett(), lambda r: f"{r['assessment_uuid']}/{r['question']}")
            self.check("budgets", fmt, self.budgets(), lambda r: str(r["record_uuid"]))
            self.check(
                "budget-lines",
                fmt,
                self.budget_lines(),
                lambda r: f"{r['budget_uuid']}/{r['kind']}/{r['category']}",
            )


@override_settings(EXPORT_STREAM_MAX_ROWS=0)
class ExportJobDownloadTest(TestCase):
    """A job's file keeps what its owner could read when it was written: each download of a
    file carrying exact points or personal data is audited, and is refused (404.78) once
    the owner no longer holds, in those areas, the rights it held then."""

    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)

    def job(self, user: Any, url: str) -> str:
        self.client.force_login(user)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.get(url)
        self.assertEqual(response.status_code, 202)
        status = self.client.get(response.json()["status_url"]).json()
        self.assertEqual(status["status"], "done")
        return str(status["download_url"])

    def download(self, user: Any, url: str) -> Any:
        self.client.force_login(user)
        return self.client.get(url, HTTP_USER_AGENT="agent/3")

    def test_each_download_of_a_disclosing_file_is_audited(self) -> None:
        url = self.job(self.manager, "/api/v1/exports/leg-days.csv")
        job_id = url.split("/")[-2]
        for _ in range(2):
            response = self.download(self.manager, url)
            self.assertEqual(response.status_code, 200)
            self.assertIn(b"Kila Oa", b"".join(response.streaming_content))
        events = AccessEvent.objects.filter(object_type="exports.exportjob")
        self.assertEqual(
            [(e.object_id, e.fields, e.area_id, e.user_id, e.path, e.user_agent) for e in events],
            [(job_id, ["leader", "ranger_names"], self.area.pk, self.manager.pk, url, "agent/3")] * 2,
        )
        # A viewer's file discloses nothing: its downloads are not recorded.
        url = self.job(self.viewer, "/api/v1/exports/illicit-activity.xlsx")
        self.assertEqual(self.download(self.viewer, url).status_code, 200)
        self.assertEqual(AccessEvent.objects.filter(object_type="exports.exportjob").count(), 2)

    def test_a_file_is_refused_once_its_owner_lost_the_rights_it_needed(self) -> None:
        from accounts.models import AreaMembership, Role

        names = self.job(self.manager, "/api/v1/exports/leg-days.geojson")
        patrols = self.job(self.manager, "/api/v1/exports/patrols.csv")
        exact = self.job(self.member, "/api/v1/exports/observations.xlsx")
        AreaMembership.objects.filter(user=self.manager).update(role=Role.MEMBER)
        self.assertEqual(self.download(self.manager, names).json()["code"], "404.78")
        self.assertEqual(self.download(self.manager, patrols).status_code, 200)  # no name in it
        AreaMembership.objects.filter(user=self.member).update(role=Role.VIEWER)
        self.assertEqual(self.download(self.member, exact).json()["code"], "404.78")
        self.assertFalse(AccessEvent.objects.filter(object_type="exports.exportjob").exists())
