"""GET /api/v1/exports/dwca.zip: a Darwin Core Archive (Event core of patrols and their days
with the Humboldt extension's effort, Occurrence extension of species records), read back
with python-dwca-reader and checked against the database, and against the shape of real
GBIF archives (../shared/data/occurrences/dwca_samples/). A viewer's archive holds no exact
sensitive point; no archive holds a ranger's or suspect's name; users of another area get
none of the area's rows."""

from __future__ import annotations

import io
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

from defusedxml import ElementTree
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from dwca.read import DwCAReader

from accounts.generalisation import Sensitivity
from accounts.models import AccessAction, AccessEvent
from exports import dwca
from observations.models import Observation, PatrolLegDay, SpeciesObservation, Taxon
from tests import access_scene as scene

URL = "/api/v1/exports/dwca.zip"
SAMPLES = Path(settings.BASE_DIR).parent / "shared" / "data" / "occurrences" / "dwca_samples"
DWC = "http://rs.tdwg.org/dwc/terms/"
ECO = "http://rs.tdwg.org/eco/terms/"
CASSOWARY_EXACT = [str(scene.CASSOWARY_LON), str(scene.CASSOWARY_LAT)]
INCIDENTAL_LON, INCIDENTAL_LAT = 147.31234, -9.45678
NAMES = ["Kila Oa", "Mary Gabi", "John Vele", "Ruth Koi", scene.SUSPECT]


class DarwinCoreArchiveTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        scene.build(cls)
        # The cassowary becomes a sensitive species (0.01° cells) for these tests.
        Taxon.objects.filter(pk=cls.cassowary.pk).update(sensitivity=Sensitivity.MEDIUM)
        # A sighting outside any patrol day: an incidental event of its own.
        cls.incidental = Observation.objects.get(pk=cls.cassowary_obs.pk)
        cls.incidental.pk, cls.incidental.record_uuid, cls.incidental.leg_day = None, uuid.uuid4(), None
        cls.incidental.patrol = None
        from django.contrib.gis.geos import Point

        cls.incidental.location = Point(INCIDENTAL_LON, INCIDENTAL_LAT, srid=4326)
        cls.incidental.save()
        open_taxon = (
            Taxon.objects.exclude(pk__in=[cls.eagle.pk, cls.cassowary.pk]).filter(sensitivity=0).first()
        )
        assert open_taxon is not None
        cls.open_taxon = open_taxon
        SpeciesObservation.objects.create(observation=cls.incidental, taxon=open_taxon, individual_count=3)

    def download(self, user: Any, **params: Any) -> Any:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self.client.get(URL, params, HTTP_USER_AGENT="test-agent/1")

    def archive(self, user: Any, **params: Any) -> bytes:
        response = self.download(user, **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b""))
        self.assertIsInstance(response, StreamingHttpResponse)
        self.assertEqual(response["Content-Type"], "application/zip")
        return b"".join(response.streaming_content)

    def read(self, data: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]], Any]:
        """Core rows by id, extension rows by row type (each with its core id), the EML."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dwca.zip"
            path.write_bytes(data)
            with DwCAReader(str(path)) as archive:
                self.assertEqual(archive.descriptor.core.type, DWC + "Event")
                core = {row.id: row.data for row in archive}
                extensions: dict[str, list[dict[str, str]]] = {}
                for row in archive:
                    for ext in row.extensions:
                        extensions.setdefault(ext.rowtype, []).append({**ext.data, "coreid": row.id})
                # Every extension row joins an event of the core.
                self.assertEqual(
                    archive.orphaned_extension_rows(), {"occurrence.txt": {}, "humboldt.txt": {}}
                )
                return core, extensions, archive.metadata

    def text(self, data: bytes) -> str:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())

    # --- What each user receives -----------------------------------------------------------

    def test_a_member_gets_the_patrol_its_days_and_their_effort_from_the_database(self) -> None:
        core, extensions, _ = self.read(self.archive(self.member))
        days = list(PatrolLegDay.objects.filter(patrol__area=self.area))
        patrols = {day.patrol for day in days}
        self.assertEqual(len(core), len(days) + len(patrols) + 1)  # + the incidental event
        humboldt = {row["coreid"]: row for row in extensions[ECO + "Event"]}
        self.assertEqual(len(humboldt), len(days) + len(patrols))
        for day in days:
            event = core[f"urn:uuid:{day.record_uuid}"]
            self.assertEqual(event[DWC + "parentEventID"], f"urn:uuid:{day.patrol.record_uuid}")
            self.assertEqual(event[DWC + "eventType"], "Patrol day")
            self.assertEqual(event[DWC + "eventDate"], f"{day.start.isoformat()}/{day.end.isoformat()}")
            self.assertAlmostEqual(float(event[DWC + "sampleSizeValue"]), day.distance_km, places=3)
            self.assertEqual(event[DWC + "sampleSizeUnit"], "km")
            self.assertEqual(event[DWC + "locality"], self.area.name)
            effort = humboldt[f"urn:uuid:{day.record_uuid}"]
            self.assertAlmostEqual(
                float(effort[ECO + "samplingEffortValue"]), day.field_hours * day.members, 3
            )
            self.assertEqual(effort[ECO + "samplingEffortUnit"], "person-hours")
            self.assertAlmostEqual(float(effort[ECO + "eventDurationValue"]), day.patrol_hours, places=3)
            self.assertEqual(effort[ECO + "eventDurationUnit"], "hours")
            self.assertEqual(effort[ECO + "isAbsenceReported"], "false")
            self.assertEqual(effort[ECO + "targetTaxonomicScope"], "Animalia")
            self.assertEqual(effort[ECO + "isSamplingEffortReported"], "true")
        for patrol in patrols:
            event = core[f"urn:uuid:{patrol.record_uuid}"]
            self.assertEqual((event[DWC + "eventType"], event[DWC + "parentEventID"]), ("Patrol", ""))
            total = sum(day.distance_km for day in days if day.patrol_id == patrol.pk)
            self.assertAlmostEqual(float(event[DWC + "sampleSizeValue"]), total, places=3)

    def test_a_member_gets_every_occurrence_with_its_exact_point_and_an_audit_row(self) -> None:
        _, extensions, _ = self.read(self.archive(self.member))
        occurrences = {row[DWC + "occurrenceID"]: row for row in extensions[DWC + "Occurrence"]}
        expected = Observation.objects.filter(
            area=self.area, species__is_occurrence=True, species__taxon__isnull=False
        )
        self.assertEqual(set(occurrences), {f"urn:uuid:{obs.record_uuid}" for obs in expected})
        self.assertNotIn(f"urn:uuid:{self.eagle_obs.record_uuid}", occurrences)  # a seizure, not a sighting
        cassowary = occurrences[f"urn:uuid:{self.cassowary_obs.record_uuid}"]
        self.assertEqual(cassowary["coreid"], f"urn:uuid:{self.cassowary_obs.leg_day.record_uuid}")
        self.assertEqual(cassowary[DWC + "eventID"], cassowary["coreid"])
        self.assertEqual(cassowary[DWC + "basisOfRecord"], "HumanObservation")
        self.assertEqual(cassowary[DWC + "scientificName"], "Casuarius casuarius")
        self.assertEqual(cassowary[DWC + "individualCount"], str(self.cassowary_obs.species.individual_count))
        self.assertEqual(cassowary[DWC + "eventDate"], self.cassowary_obs.time.isoformat())
        self.assertEqual(
            (float(cassowary[DWC + "decimalLongitude"]), float(cassowary[DWC + "decimalLatitude"])),
            (scene.CASSOWARY_LON, scene.CASSOWARY_LAT),
        )
        self.assertEqual(cassowary[DWC + "geodeticDatum"], "EPSG:4326")
        self.assertEqual(cassowary[DWC + "dataGeneralizations"], "")
        event = AccessEvent.objects.get(user=self.member)
        self.assertEqual(
            (event.action, event.object_id, event.fields, event.path),
            (AccessAction.EXPORT, str(self.cassowary_obs.pk), ["location"], URL),
        )

    def test_an_incidental_sighting_is_an_event_of_its_own(self) -> None:
        core, extensions, _ = self.read(self.archive(self.member))
        event_id = f"urn:uuid:{dwca.incidental_event_id(self.incidental.record_uuid)}"
        self.assertEqual(core[event_id][DWC + "eventType"], "Incidental sighting")
        self.assertEqual(core[event_id][DWC + "sampleSizeValue"], "")
        row = next(
            r
            for r in extensions[DWC + "Occurrence"]
            if r[DWC + "occurrenceID"] == f"urn:uuid:{self.incidental.record_uuid}"
        )
        self.assertEqual(row["coreid"], event_id)
        self.assertEqual(row[DWC + "scientificName"], self.open_taxon.scientific_name)
        self.assertEqual(row[DWC + "individualCount"], "3")
        self.assertEqual(float(row[DWC + "decimalLongitude"]), INCIDENTAL_LON)

    def test_a_viewer_gets_no_exact_sensitive_point(self) -> None:
        data = self.archive(self.viewer)
        text = self.text(data)
        for needle in [*CASSOWARY_EXACT, "147.3876", "-9.4116"]:
            self.assertNotIn(needle, text)
        _, extensions, _ = self.read(data)
        cassowary = next(
            row for row in extensions[DWC + "Occurrence"]
            if row[DWC + "occurrenceID"] == f"urn:uuid:{self.cassowary_obs.record_uuid}"
        )  # fmt: skip
        self.assertEqual(
            (cassowary[DWC + "decimalLongitude"], cassowary[DWC + "decimalLatitude"]), ("147.385", "-9.415")
        )
        self.assertIn("0.01° grid cell", cassowary[DWC + "dataGeneralizations"])
        self.assertIn("withheld", cassowary[DWC + "informationWithheld"])
        self.assertGreaterEqual(float(cassowary[DWC + "coordinateUncertaintyInMeters"]), 780)
        self.assertFalse(AccessEvent.objects.filter(user=self.viewer).exists())

    def test_no_archive_names_a_ranger_or_a_suspect(self) -> None:
        Observation.objects.filter(pk=self.cassowary_obs.pk).update(observer=scene.OBSERVER)
        for user in (self.manager, self.law, self.admin, self.national_law):
            text = self.text(self.archive(user))
            for name in NAMES:
                self.assertNotIn(name, text, user.username)
            self.assertNotIn("recordedBy", text)

    def test_users_of_another_area_get_none_of_its_rows(self) -> None:
        for user in (self.outsider, self.outside_law, self.law):
            core, extensions, _ = self.read(self.archive(user))
            self.assertEqual((core, extensions), ({}, {}), user.username)

    def test_who_may_export_nowhere_is_refused(self) -> None:
        for user in (self.collector, self.nobody):
            response = self.download(user)
            self.assertEqual((response.status_code, response.json()["code"]), (403, "403.85"))
        self.assertEqual(self.download(None).status_code, 401)

    # --- Filters -----------------------------------------------------------------------------

    def test_filters_by_area_and_year(self) -> None:
        def counts(**params: Any) -> tuple[int, int]:
            core, extensions, _ = self.read(self.archive(self.admin, **params))
            return len(core), len(extensions.get(DWC + "Occurrence", []))

        everything = counts()
        self.assertEqual(counts(year=2024), everything)
        self.assertEqual(counts(area=self.area.pk), everything)
        self.assertEqual(counts(area=f"{self.area.pk},{self.other_area.pk}"), everything)
        self.assertEqual(counts(year=2023), (0, 0))
        self.assertEqual(counts(area=self.other_area.pk), (0, 0))

    def test_a_bad_filter_gets_its_catalogue_error(self) -> None:
        for params in ({"year": "last"}, {"year": "24"}, {"area": "x"}, {"area": "1,-2"}):
            response = self.download(self.member, **params)
            self.assertEqual((response.status_code, response.json()["code"]), (400, "400.82"), params)

    # --- Metadata and the archive's shape ----------------------------------------------------

    def test_the_eml_carries_the_settings_and_the_coverage_of_the_data(self) -> None:
        with self.settings(
            DWCA_TITLE="Varirata patrols", DWCA_PUBLISHER="CEPA", DWCA_CONTACT_EMAIL="data@cepa.example"
        ):
            _, _, eml = self.read(self.archive(self.member, year=2024))
        self.assertEqual(eml.findtext("dataset/title"), "Varirata patrols (2024)")
        self.assertEqual(eml.findtext("dataset/creator/organizationName"), "CEPA")
        self.assertEqual(eml.findtext("dataset/contact/electronicMailAddress"), "data@cepa.example")
        self.assertIn("by/4.0", eml.find("dataset/intellectualRights/para/ulink").get("url"))
        box = eml.find("dataset/coverage/geographicCoverage/boundingCoordinates")
        west, _, _, north = self.area.boundary.extent
        self.assertAlmostEqual(float(box.findtext("westBoundingCoordinate")), west, places=5)
        self.assertAlmostEqual(float(box.findtext("northBoundingCoordinate")), north, places=5)
        dates = eml.find("dataset/coverage/temporalCoverage/rangeOfDates")
        self.assertEqual(dates.findtext("beginDate/calendarDate"), self.cassowary_obs.day.isoformat())
        self.assertEqual(dates.findtext("endDate/calendarDate"), self.cassowary_obs.day.isoformat())

    def test_the_archive_is_shaped_as_gbif_archives_are(self) -> None:
        data = self.archive(self.member)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.assertEqual(
                sorted(archive.namelist()),
                ["eml.xml", "event.txt", "humboldt.txt", "meta.xml", "occurrence.txt"],
            )
            meta = ElementTree.fromstring(archive.read("meta.xml"))
            files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
        text_ns = "{http://rs.tdwg.org/dwc/text/}"
        self.assertEqual((meta.tag, meta.get("metadata")), (f"{text_ns}archive", "eml.xml"))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dwca.zip"
            path.write_bytes(data)
            ours = self.descriptors(path)
        for sample in ("dwca-2extensions.zip", "gbif-results.zip"):
            theirs = self.descriptors(SAMPLES / sample)
            for shape in ours.values():
                # Separators, line ends, no quoting and UTF-8, as in GBIF's own archives.
                self.assertEqual(shape[:4], next(iter(theirs.values()))[:4], sample)
        self.assertEqual(ours[DWC + "Event"][4:], ("event.txt", 1, True))
        self.assertEqual(ours[DWC + "Occurrence"][4:], ("occurrence.txt", 1, False))
        self.assertEqual(ours[ECO + "Event"][4:], ("humboldt.txt", 1, False))
        # Every line of a data file holds as many fields as meta.xml declares, plus the id.
        for section in meta:
            name = section.find(f"{text_ns}files/{text_ns}location").text
            indexes = [int(f.get("index")) for f in section.findall(f"{text_ns}field")]
            width = max(indexes) + 1
            lines = files[name].split("\n")
            self.assertEqual(lines[-1], "")
            for line in lines[:-1]:
                self.assertEqual(len(line.split("\t")), width, name)

    def test_the_terms_are_those_of_gbif_archives(self) -> None:
        """Every term ours shares with the real archives has the same IRI there; ids sit
        where theirs do (the core's id and the extensions' core id in column 0); each
        file's header names its terms."""
        theirs: dict[str, set[str]] = {}
        for sample in ("dwca-2extensions.zip", "gbif-results.zip"):
            with DwCAReader(str(SAMPLES / sample)) as archive:
                for section in [archive.descriptor.core, *archive.descriptor.extensions]:
                    for term in section.terms:
                        theirs.setdefault(term.rsplit("/", 1)[-1], set()).add(term)
                self.assertEqual(archive.descriptor.core.id_index, 0, sample)
                for extension in archive.descriptor.extensions:
                    self.assertEqual(extension.coreid_index, 0, sample)
        shared = 0
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dwca.zip"
            path.write_bytes(self.archive(self.member))
            with DwCAReader(str(path)) as archive:
                self.assertEqual(archive.descriptor.core.id_index, 0)
                self.assertEqual([e.coreid_index for e in archive.descriptor.extensions], [0, 0])
                for section in [archive.descriptor.core, *archive.descriptor.extensions]:
                    with archive.open_included_file(section.file_location) as file:
                        header = file.readline().rstrip("\n").split("\t")
                    fields = sorted(section.fields, key=lambda f: f["index"])
                    self.assertEqual([f["index"] for f in fields], list(range(len(fields))))
                    names = [f["term"].rsplit("/", 1)[-1] for f in fields]
                    self.assertEqual(header, names, section.file_location)
                    self.assertEqual(len(set(names)), len(names), section.file_location)
                    for term in section.terms:
                        self.assertTrue(term.startswith((DWC, ECO, "http://purl.org/dc/terms/")), term)
                        known = theirs.get(term.rsplit("/", 1)[-1])
                        if known:
                            shared += 1
                            self.assertIn(term, known)
        self.assertGreater(shared, 10)

    def descriptors(self, path: Path) -> dict[str, tuple[Any, ...]]:
        with DwCAReader(str(path)) as archive:
            sections = [archive.descriptor.core, *archive.descriptor.extensions]
            return {
                d.type: (
                    d.fields_terminated_by, d.lines_terminated_by, d.fields_enclosed_by,
                    d.file_encoding.lower(), d.file_location, d.lines_to_ignore, d.represents_corefile,
                )
                for d in sections
            }  # fmt: skip

    def test_the_query_count_does_not_grow_with_the_rows(self) -> None:
        def queries() -> int:
            self.client.force_login(self.member)
            with CaptureQueriesContext(connection) as captured:
                b"".join(self.client.get(URL).streaming_content)
            return len(captured)

        few = queries()
        for _ in range(20):
            copy = Observation.objects.get(pk=self.cassowary_obs.pk)
            copy.pk, copy.record_uuid = None, uuid.uuid4()
            copy.save()
            SpeciesObservation.objects.create(observation=copy, taxon=self.cassowary, individual_count=2)
        self.assertEqual(queries(), few)

    def test_rows_written_in_chunks(self) -> None:
        for _ in range(4):
            copy = Observation.objects.get(pk=self.cassowary_obs.pk)
            copy.pk, copy.record_uuid = None, uuid.uuid4()
            copy.save()
            SpeciesObservation.objects.create(observation=copy, taxon=self.cassowary, individual_count=2)
        whole = self.read(self.archive(self.member))
        with mock.patch.object(dwca, "CHUNK", 2):
            chunked = self.read(self.archive(self.member))
        self.assertEqual(whole[:2], chunked[:2])
        self.assertEqual(len(whole[1][DWC + "Occurrence"]), 6)  # 1 + the incidental + 4 copies
