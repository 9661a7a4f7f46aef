"""Real ODK Collect output (onadata's test fixtures: an SD-card dump, the transportation
form with photos and an edited record, GPS instances, a bulk-submission zip and an encrypted
record) sent through the OpenRosa endpoints as Collect sends it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from odk_forms import publishing
from odk_forms.models import Attachment, FormVersion, ProcessingState, Submission
from tests.base import BaseTestCase
from tests.builders import SHARED_DATA
from tests.xml_builders import openrosa_headers

ONADATA = SHARED_DATA / "submissions" / "onadata_fixtures"
TRANSPORT = ONADATA / "main/tests/fixtures/transportation"
GPS = ONADATA / "main/tests/fixtures/gps"
SDCARD = ONADATA / "logger/tests/data_from_sdcard"
ENCRYPTED = ONADATA / "logger/fixtures/tutorial_encrypted"


def stamped(xml: bytes, form_id: str, version: str) -> bytes:
    """The XForm as the server that received these records served it: onadata stamps a
    version on XLSForms that have none."""
    return xml.replace(f'id="{form_id}"'.encode(), f'id="{form_id}" version="{version}"'.encode(), 1)


class CollectFixturesTest(BaseTestCase):
    def publish(self, path: Path, content: bytes | None = None) -> FormVersion:
        return publishing.publish_form_version(
            path.name,
            path.read_bytes() if content is None else content,
            area_ids=[self.area.pk],
            validate=False,
        )

    def send_instance(self, folder: Path, xml_name: str | None = None, username: str = "collector"):  # type: ignore[no-untyped-def]
        """POST an instance folder as Collect does: the XML, then every other file in it."""
        xml_path = folder / (xml_name or f"{folder.name}.xml")
        files = {
            p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix != ".xml" and p != xml_path
        }
        return self.send(xml_path.read_bytes(), files, username)

    def send(self, xml: bytes, files: dict[str, bytes], username: str = "collector"):  # type: ignore[no-untyped-def]
        data: dict[str, object] = {"xml_submission_file": io.BytesIO(xml)}
        for name, content in files.items():
            part = io.BytesIO(content)
            part.name = name
            data[name] = part
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post("/submission?deviceID=collect%3Ax1", data, **openrosa_headers(username))

    def test_transportation_versions_photos_and_edit(self) -> None:
        old = self.publish(TRANSPORT / "transportation.xlsx")  # version 2014111
        current = self.publish(TRANSPORT / "transportation.xml")  # version 201411120717
        self.assertEqual((old.version, current.version), ("2014111", "201411120717"))

        instances = TRANSPORT / "instances"
        for name in ("transport_2011-07-25_19-05-36", "transport_2011-07-25_19-06-14"):
            self.assertEqual(self.send_instance(instances / name).status_code, 201, name)
        with_photo = instances / "transport_2011-07-25_19-05-49"
        response = self.send_instance(with_photo, "transport_2011-07-25_19-05-49.xml")
        self.assertEqual(response.status_code, 201, response.content)

        # The older version still takes data; the record without a version goes to the current one.
        self.assertEqual(
            Submission.objects.get(instance_id="uuid:f3d8dc65-91a6-4d0f-9e97-802128083390").form_version, old
        )
        self.assertEqual(
            Submission.objects.get(instance_id="uuid:9f0a1508-c3b7-4c99-be00-9b237c26bcbf").form_version,
            current,
        )
        original = Submission.objects.get(instance_id="uuid:5b2cc313-fc09-437e-8149-fcd32f695d41")
        photos = {a.name: a for a in original.attachments.all()}
        self.assertTrue(photos["1335783522563.jpg"].is_referenced)
        self.assertEqual(photos["1335783522563.jpg"].size, 714104)
        # The other files of the folder are kept, flagged as not named by the record.
        self.assertEqual(
            {n for n, a in photos.items() if not a.is_referenced},
            {"1335783522564.JPG", "1442323232322.jpg", "sample.geojson"},
        )
        self.assertEqual(original.state, ProcessingState.PROCESSED)
        self.assertEqual(original.metadata["attachments_missing"], [])

        # Sent again (the phone never got the answer): one record.
        response = self.send_instance(with_photo, "transport_2011-07-25_19-05-49.xml")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Submission.objects.count(), 3)

        # The edited record, without its photo: a new version that keeps it.
        edited = (with_photo / "transport_2011-07-25_19-05-49_edited.xml").read_bytes()
        self.assertEqual(self.send(edited, {}).status_code, 201)
        edit = Submission.objects.get(instance_id="uuid:6b2cc313-fc09-437e-8139-fcd32f695d41")
        original.refresh_from_db()
        self.assertEqual((edit.previous, edit.root, original.is_current), (original, original, False))
        carried = edit.attachments.get()
        self.assertEqual(
            (carried.name, carried.file.name), ("1335783522563.jpg", photos["1335783522563.jpg"].file.name)
        )
        self.assertEqual(edit.metadata["attachments_missing"], [])

    def test_gps_instances_without_instance_id(self) -> None:
        self.publish(GPS / "gps.xlsx")
        for path in sorted((GPS / "instances").glob("*.xml")):
            self.assertEqual(self.send(path.read_bytes(), {}).status_code, 201, path.name)
            self.assertEqual(self.send(path.read_bytes(), {}).status_code, 201, path.name)
        self.assertEqual(Submission.objects.count(), 2)

    def test_gps_in_repeats(self) -> None:
        from odk_forms import conversion

        prepared = conversion.prepare_form("gps_in_repeats.xlsx", (GPS / "gps_in_repeats.xlsx").read_bytes())
        self.publish(Path("gps_in_repeats.xml"), stamped(prepared.xml, "gps_in_repeats", "201512170758"))
        response = self.send((GPS / "gps_in_repeats_submission.xml").read_bytes(), {})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Submission.objects.get().instance_id, "uuid:340f7fe7-5d8e-451b-891f-09c8b3b44679")

    def test_sd_card_dump(self) -> None:
        forms = SDCARD / "b1/odk/forms"
        for form in sorted(forms.glob("*.xml")):
            self.publish(form)
        for folder in sorted((SDCARD / "b1/odk/instances").iterdir()):
            self.assertEqual(self.send_instance(folder).status_code, 201, folder.name)
        photo = Attachment.objects.get(submission__form__xml_form_id="photo_example_2011_05_03")
        self.assertEqual((photo.name, photo.size, photo.is_referenced), ("1304461815203.jpg", 6663, True))

    def test_bulk_submission_zip(self) -> None:
        with zipfile.ZipFile(SDCARD / "bulk_submission.zip") as archive:
            names = archive.namelist()
            self.publish(Path("tutorial.xml"), archive.read("bulk_submission/odk/forms/tutorial.xml"))
            folders = sorted(
                {n.rsplit("/", 1)[0] for n in names if "/instances/" in n and not n.endswith("/")}
            )
            for folder in folders:
                members = [n for n in names if n.startswith(folder + "/") and not n.endswith("/")]
                xml = next(n for n in members if n.endswith(".xml"))
                files = {n.rsplit("/", 1)[1]: archive.read(n) for n in members if n != xml}
                self.assertEqual(self.send(archive.read(xml), files).status_code, 201, folder)
        self.assertEqual(Submission.objects.count(), 2)
        self.assertEqual(Attachment.objects.filter(is_referenced=True).count(), 2)
        self.assertFalse(Submission.objects.exclude(state=ProcessingState.PROCESSED).exists())

    def test_encrypted_record(self) -> None:
        from odk_forms import conversion

        prepared = conversion.prepare_form(
            "tutorial_encrypted.xlsx", (ENCRYPTED / "tutorial_encrypted.xlsx").read_bytes(), validate=False
        )
        version = self.publish(
            Path("tutorial_encrypted.xml"), stamped(prepared.xml, "tutorial_encrypted", "201701031234")
        )
        self.assertTrue(version.is_encrypted)
        response = self.send_instance(ENCRYPTED / "instances", "tutorial_encrypted.xml")
        self.assertEqual(response.status_code, 201, response.content)
        submission = Submission.objects.get()
        self.assertTrue(submission.is_encrypted)
        self.assertEqual(submission.instance_id, "uuid:f8971231-f3b8-4b2b-8c35-d95fa207d937")
        self.assertEqual(submission.state, ProcessingState.NEEDS_KEY)
        self.assertEqual(
            sorted(submission.attachments.filter(is_referenced=True).values_list("name", flat=True)),
            ["1483528430996.jpg.enc", "1483528445767.jpg.enc", "submission.xml.enc"],
        )

    def test_outsider_cannot_send_them(self) -> None:
        self.publish(TRANSPORT / "transportation.xml")
        folder = TRANSPORT / "instances/transport_2011-07-25_19-06-14"
        # Answered like a form that is not there: other areas' forms are not disclosed.
        self.assertEqual(self.send_instance(folder, username="outsider").status_code, 404)
        self.assertFalse(Submission.objects.exists())
