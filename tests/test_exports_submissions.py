"""GET /api/v1/exports/forms/<id>/submissions.csv.zip and .xlsx: a form's raw submissions in
ODK Central's layout, from real ODK Collect output (onadata's fixtures: the transportation
form in two versions with a photo and an edited record, the GPS form with geopoints in a
repeat) sent through the OpenRosa endpoint. Read back with zipfile, csv and openpyxl and
checked against the XML; only those who may read personal data and exact points in the
form's areas get them, and each record exported leaves an AccessEvent."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from openpyxl import load_workbook

from accounts.models import AccessAction, AccessEvent, Role, User
from exports import submission_files
from odk_forms import conversion, decryption, encryption, publishing, receiving
from odk_forms.models import Form, FormVersion, Submission
from tests import test_encryption as sealed
from tests.base import PASSWORD, BaseTestCase
from tests.builders import SHARED_DATA
from tests.odk_crypto import make_key_pair
from tests.xml_builders import openrosa_headers

ONADATA = SHARED_DATA / "submissions" / "onadata_fixtures"
TRANSPORT = ONADATA / "main/tests/fixtures/transportation"
INSTANCES = TRANSPORT / "instances"
WITH_PHOTO = INSTANCES / "transport_2011-07-25_19-05-49"
GPS = ONADATA / "main/tests/fixtures/gps"
PHOTO = "1335783522563.jpg"
ORIGINAL = "uuid:5b2cc313-fc09-437e-8149-fcd32f695d41"
EDITED = "uuid:6b2cc313-fc09-437e-8139-fcd32f695d41"
OLD_VERSION, NEW_VERSION = "2014111", "201411120717"
CHOICES = "transport-available_transportation_types_to_referral_facility"
AMBULANCE = "transport-loop_over_transport_types_frequency-ambulance-frequency_to_referral_facility"


def url(form: Form, kind: str = "csv.zip") -> str:
    return f"/api/v1/exports/forms/{form.pk}/submissions.{kind}"


class ExportSubmissionsTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.law = cls._user("law", cls.area, Role.LAW_ENFORCEMENT)
        cls.viewer = cls._user("viewer", cls.area, Role.VIEWER)
        cls.outside_law = cls._user("outside_law", cls.other_area, Role.LAW_ENFORCEMENT)
        cls.admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)

    # --- Sending, as Collect does ----------------------------------------------------------------

    def publish(self, name: str, content: bytes) -> FormVersion:
        return publishing.publish_form_version(name, content, area_ids=[self.area.pk], validate=False)

    def send(self, xml: bytes, files: dict[str, bytes] | None = None) -> None:
        data: dict[str, object] = {"xml_submission_file": io.BytesIO(xml)}
        for name, content in (files or {}).items():
            part = io.BytesIO(content)
            part.name = name
            data[name] = part
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/submission?deviceID=collect%3Ax1", data, **openrosa_headers("collector")
            )
        self.assertEqual(response.status_code, 201, response.content)

    def transportation(self) -> Form:
        self.publish("transportation.xlsx", (TRANSPORT / "transportation.xlsx").read_bytes())
        current = self.publish("transportation.xml", (TRANSPORT / "transportation.xml").read_bytes())
        for folder in ("transport_2011-07-25_19-05-36", "transport_2011-07-25_19-06-14"):
            self.send((INSTANCES / folder / f"{folder}.xml").read_bytes())
        photos = {p.name: p.read_bytes() for p in WITH_PHOTO.iterdir() if p.suffix != ".xml"}
        self.send((WITH_PHOTO / f"{WITH_PHOTO.name}.xml").read_bytes(), photos)
        self.send((WITH_PHOTO / f"{WITH_PHOTO.name}_edited.xml").read_bytes())
        return current.form

    def gps_in_repeats(self) -> Form:
        prepared = conversion.prepare_form("gps_in_repeats.xlsx", (GPS / "gps_in_repeats.xlsx").read_bytes())
        xml = prepared.xml.replace(b'id="gps_in_repeats"', b'id="gps_in_repeats" version="201512170758"', 1)
        version = self.publish("gps_in_repeats.xml", xml)
        self.send((GPS / "gps_in_repeats_submission.xml").read_bytes())
        return version.form

    # --- Reading back ---------------------------------------------------------------------------

    def get(self, user: Any, address: str, **params: Any) -> Any:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self.client.get(address, params, HTTP_USER_AGENT="test-agent/1")

    def archive(self, user: Any, form: Form, **params: Any) -> zipfile.ZipFile:
        response = self.get(user, url(form), **params)
        self.assertEqual(response.status_code, 200, getattr(response, "content", b""))
        self.assertEqual(response["Content-Type"], "application/zip")
        return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    def table(self, archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[dict[str, str]]]:
        text = archive.read(name).decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
        return list(reader.fieldnames or []), rows

    # --- The tests ------------------------------------------------------------------------------

    def test_it_lays_out_the_transportation_records_as_central_does(self) -> None:
        form = self.transportation()
        archive = self.archive(self.law, form)
        self.assertEqual(archive.namelist(), ["transportation_2011_07_25.csv"])
        header, rows = self.table(archive, "transportation_2011_07_25.csv")
        self.assertEqual(header[0], "SubmissionDate")
        self.assertEqual(
            header[-10:],
            [
                "KEY",
                "SubmitterID",
                "SubmitterName",
                "AttachmentsPresent",
                "AttachmentsExpected",
                "Status",
                "ReviewState",
                "DeviceID",
                "Edits",
                "FormVersion",
            ],
        )
        for column in (CHOICES, AMBULANCE, "image1", "meta-instanceID", "formhub-uuid"):
            self.assertIn(column, header)
        # The current version of each record: three records, the edit in place of the original.
        self.assertEqual(len(rows), 3)
        by_key = {row["KEY"]: row for row in rows}
        self.assertNotIn(ORIGINAL, by_key)
        first = by_key["uuid:f3d8dc65-91a6-4d0f-9e97-802128083390"]
        self.assertEqual(first[CHOICES], "ambulance bicycle")  # select_multiple as sent
        self.assertEqual(first[AMBULANCE], "daily")
        self.assertEqual(first["meta-instanceID"], first["KEY"])
        self.assertEqual(
            (first["FormVersion"], first["Edits"], first["Status"], first["DeviceID"]),
            (OLD_VERSION, "0", "", "collect:x1"),
        )
        self.assertEqual(
            (first["SubmitterID"], first["SubmitterName"]), (str(self.collector.pk), "collector")
        )
        self.assertRegex(first["SubmissionDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        edit = by_key[EDITED]
        self.assertEqual((edit["Edits"], edit["image1"]), ("1", PHOTO))
        # The photo carried over to the edit; the original's date is the record's date.
        self.assertEqual((edit["AttachmentsPresent"], edit["AttachmentsExpected"]), ("1", "1"))
        original = Submission.objects.get(instance_id=ORIGINAL)
        self.assertEqual(edit["SubmissionDate"], submission_files._iso(original.received_at))
        self.assertEqual(by_key["uuid:9f0a1508-c3b7-4c99-be00-9b237c26bcbf"]["FormVersion"], NEW_VERSION)

    def test_it_puts_the_media_files_in_when_asked(self) -> None:
        form = self.transportation()
        archive = self.archive(self.law, form, media="true")
        self.assertEqual(archive.namelist(), ["transportation_2011_07_25.csv", f"media/{PHOTO}"])
        self.assertEqual(archive.read(f"media/{PHOTO}"), (WITH_PHOTO / PHOTO).read_bytes())
        self.assertEqual(self.get(self.law, url(form), media="maybe").json()["code"], "400.81")

    def test_it_exports_a_range_of_versions(self) -> None:
        form = self.transportation()

        def keys(versions: str) -> set[str]:
            _, rows = self.table(
                self.archive(self.law, form, versions=versions), "transportation_2011_07_25.csv"
            )
            return {row["KEY"] for row in rows}

        old = {"uuid:f3d8dc65-91a6-4d0f-9e97-802128083390", EDITED}
        new = {"uuid:9f0a1508-c3b7-4c99-be00-9b237c26bcbf"}
        self.assertEqual(keys(OLD_VERSION), old)
        self.assertEqual(keys(NEW_VERSION), new)
        self.assertEqual(keys(f"{OLD_VERSION}..{NEW_VERSION}"), old | new)
        self.assertEqual(keys(f"..{OLD_VERSION}"), old)
        self.assertEqual(keys(f"{NEW_VERSION}.."), new)
        self.assertEqual(keys(f"{NEW_VERSION},{OLD_VERSION}"), old | new)
        for bad in ("nope", f"{NEW_VERSION}..{OLD_VERSION}", "..nope"):
            response = self.get(self.law, url(form), versions=bad)
            self.assertEqual((response.status_code, response.json()["code"]), (400, "400.80"), bad)

    def test_repeats_go_to_their_own_file_joined_by_keys(self) -> None:
        form = self.gps_in_repeats()
        archive = self.archive(self.law, form)
        self.assertEqual(archive.namelist(), ["gps_in_repeats.csv", "gps_in_repeats-points.csv"])
        header, rows = self.table(archive, "gps_in_repeats.csv")
        instance = "uuid:340f7fe7-5d8e-451b-891f-09c8b3b44679"
        self.assertEqual([row["KEY"] for row in rows], [instance])
        self.assertEqual(rows[0]["category"], "carrot guava")
        self.assertNotIn("points-point-Latitude", header)  # the repeat's fields are in its file
        header, points = self.table(archive, "gps_in_repeats-points.csv")
        self.assertEqual(
            header,
            ["point-Latitude", "point-Longitude", "point-Altitude", "point-Accuracy", "PARENT_KEY", "KEY"],
        )
        self.assertEqual(
            [
                (p["point-Latitude"], p["point-Longitude"], p["point-Altitude"], p["point-Accuracy"])
                for p in points
            ],
            [("-13.859414", "27.995911", "0", "0"), ("-12.897489", "30.27832", "0", "0")],
        )
        self.assertEqual([p["PARENT_KEY"] for p in points], [instance, instance])
        self.assertEqual([p["KEY"] for p in points], [f"{instance}/points[1]", f"{instance}/points[2]"])

    def test_xlsx_has_one_sheet_per_repeat(self) -> None:
        form = self.gps_in_repeats()
        response = self.get(self.law, url(form, "xlsx"))
        self.assertEqual(response.status_code, 200)
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        self.assertEqual(book.sheetnames, ["gps_in_repeats", "points"])
        main = list(book["gps_in_repeats"].iter_rows(values_only=True))
        self.assertEqual(len(main), 2)
        self.assertEqual(main[0][0], "SubmissionDate")
        points = list(book["points"].iter_rows(values_only=True))
        self.assertEqual(points[0][-2:], ("PARENT_KEY", "KEY"))
        self.assertEqual([row[0] for row in points[1:]], ["-13.859414", "-12.897489"])
        self.assertEqual(points[2][-1], "uuid:340f7fe7-5d8e-451b-891f-09c8b3b44679/points[2]")

    def test_each_exported_record_is_audited(self) -> None:
        form = self.transportation()
        self.archive(self.law, form)
        events = AccessEvent.objects.filter(user=self.law, action=AccessAction.EXPORT)
        self.assertEqual(events.count(), 3)
        current = set(Submission.objects.filter(is_current=True).values_list("pk", flat=True))
        self.assertEqual({int(e.object_id) for e in events}, {int(pk) for pk in current})
        event = events.first()
        assert event is not None
        self.assertEqual(
            (event.object_type, event.fields, event.area_id, event.user_agent),
            ("odk_forms.submission", [submission_files.DISCLOSED], self.area.pk, "test-agent/1"),
        )

    def test_it_validates_ownership(self) -> None:
        """Raw submissions: personal data and exact points. Managers, members, viewers and
        collectors of the area lack personal data, users of another area everything: not
        found."""
        form = self.gps_in_repeats()
        for user in (self.owner, self.member, self.viewer, self.collector, self.outsider, self.outside_law):
            for kind in ("csv.zip", "xlsx"):
                response = self.get(user, url(form, kind))
                self.assertEqual(response.status_code, 404, (user.username, kind))
                self.assertEqual(response.json()["code"], "404.80")
        self.assertFalse(AccessEvent.objects.filter(action=AccessAction.EXPORT).exists())
        self.assertEqual(self.get(None, url(form)).status_code, 401)
        self.assertEqual(
            self.get(self.law, f"/api/v1/exports/forms/{form.pk + 99}/submissions.csv.zip").status_code, 404
        )
        # A superuser may; rangers' names are filled for those who may read them.
        _, rows = self.table(self.archive(self.admin, form), "gps_in_repeats.csv")
        self.assertEqual(rows[0]["SubmitterName"], "collector")

    def test_a_form_of_no_area_is_for_national_roles_only(self) -> None:
        form = self.gps_in_repeats()
        form.areas.clear()
        self.assertEqual(self.get(self.law, url(form)).status_code, 404)
        self.assertEqual(self.get(self.admin, url(form)).status_code, 200)

    def test_select_multiples_split_on_request(self) -> None:
        form = self.transportation()
        archive = self.archive(self.law, form, splitSelectMultiples="true")
        header, rows = self.table(archive, "transportation_2011_07_25.csv")
        at = header.index(CHOICES)
        self.assertEqual(header[at + 1 : at + 3], [f"{CHOICES}-ambulance", f"{CHOICES}-bicycle"])
        first = next(row for row in rows if row["KEY"] == "uuid:f3d8dc65-91a6-4d0f-9e97-802128083390")
        self.assertEqual(
            (first[f"{CHOICES}-ambulance"], first[f"{CHOICES}-bicycle"], first[f"{CHOICES}-bus"]),
            ("1", "1", "0"),
        )
        self.assertEqual(self.get(self.law, url(form), splitSelectMultiples="x").json()["code"], "400.81")
        header, _ = self.table(
            self.archive(self.law, form, groupPaths="false"), "transportation_2011_07_25.csv"
        )
        self.assertIn("available_transportation_types_to_referral_facility", header)
        self.assertIn("instanceID", header)

    def test_encrypted_records_show_once_decrypted(self) -> None:
        keys = make_key_pair()
        version = self.publish("ranger_patrol.xml", sealed.encrypted_xform(keys.base64_public_key))
        sent = sealed.encrypted(keys)
        parts = {name: io.BytesIO(data) for name, data in sent.files.items()}
        with self.captureOnCommitCallbacks(execute=True):
            receiving.receive_submission(sent.envelope, parts, user=self.collector)
        _, rows = self.table(self.archive(self.law, version.form), "ranger_patrol.csv")
        self.assertEqual(
            (rows[0]["KEY"], rows[0]["Status"], rows[0]["sighting"]), (sealed.INSTANCE_ID, "NotDecrypted", "")
        )

        with self.captureOnCommitCallbacks(execute=True):
            key = encryption.load_private_key(keys.private_pem)
            decryption.decrypt_stored_submission(Submission.objects.get(), key)
        archive = self.archive(self.law, version.form, media="true")
        _, rows = self.table(archive, "ranger_patrol.csv")
        row = rows[0]
        self.assertEqual(
            (row["Status"], row["sighting"], row["photo"]), ("", "Pesquet\u2019s parrot", "nest.jpg")
        )
        self.assertEqual((row["AttachmentsPresent"], row["AttachmentsExpected"]), ("2", "2"))
        # The decrypted files, not the encrypted ones.
        self.assertEqual(
            sorted(n for n in archive.namelist() if n.startswith("media/")),
            ["media/call.m4a", "media/nest.jpg"],
        )
        self.assertEqual(archive.read("media/nest.jpg"), sealed.MEDIA["nest.jpg"])
