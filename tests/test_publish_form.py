"""publish_form (the command) and publish_form_version(): conversion, ODK Validate,
versions, drafts and media. The reference forms are real third-party XLSForms."""

from __future__ import annotations

import hashlib
from io import BytesIO, StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TestCase

from fieldkit.errors import Problem
from odk_forms import publishing
from odk_forms.models import Form, FormVersion, MediaFile
from tests.builders import SHARED_DATA, make_area
from tests.xml_builders import make_xform

PYXFORM_EXAMPLES = SHARED_DATA / "forms" / "pyxform_examples"
REFERENCE_FORMS = [
    *sorted(PYXFORM_EXAMPLES.glob("*.xls")),
    *sorted(PYXFORM_EXAMPLES.glob("*.xlsx")),
    PYXFORM_EXAMPLES / "widgets.csv",
    SHARED_DATA / "forms" / "cybertracker_aerial_survey" / "form.xlsx",
]
INVALID_XFORM = make_xform().replace(b'type="string"/>', b'type="string" relevant="/data/count = = 1"/>', 1)


def publish(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("publish_form", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class ReferenceFormsTest(TestCase):
    def test_reference_forms_publish_and_validate(self) -> None:
        self.assertEqual(len(REFERENCE_FORMS), 8)
        for path in REFERENCE_FORMS:
            with self.subTest(path.name):
                version = publishing.publish_form_version(path.name, path.read_bytes(), validate=True)
                self.assertEqual(
                    version.md5, hashlib.md5(bytes(version.xml), usedforsecurity=False).hexdigest()
                )
                self.assertFalse(version.is_draft)
                self.assertEqual(version.form.current_version, version)
                # widgets.xls and widgets.csv are the same form, without a version.
                version.form.delete()

    def test_cybertracker_aerial_survey(self) -> None:
        path = SHARED_DATA / "forms" / "cybertracker_aerial_survey" / "form.xlsx"
        version = publishing.publish_form_version(path.name, path.read_bytes(), validate=True)
        self.assertEqual(version.form.xml_form_id, "form")
        # It shows pictures in its choices: the form lists them for the manifest.
        self.assertTrue(version.media_names)


class PublishCommandTest(TestCase):
    def setUp(self) -> None:
        self.area = make_area()

    def test_it_prints_id_and_version(self) -> None:
        path = (
            SHARED_DATA
            / "submissions/onadata_fixtures/main/tests/fixtures/transportation/transportation.xlsx"
        )
        output = publish(path, "--area", str(self.area.pk))
        self.assertIn("transportation_2011_07_25 2014111 published", output)
        form = Form.objects.get()
        self.assertEqual(list(form.areas.all()), [self.area])
        self.assertEqual(form.current_version.version, "2014111")

    def test_xform_with_media(self) -> None:
        form_file = self._write("species.xml", make_xform(media=["zebra.png"]))
        media = self._write("zebra.png", b"\x89PNG")
        publish(form_file, "--media", str(media))
        self.assertEqual(MediaFile.objects.get().name, "zebra.png")

    def test_new_version_keeps_old_ones(self) -> None:
        publish(self._write("a.xml", make_xform(version="1")))
        publish(self._write("b.xml", make_xform(version="2")))
        form = Form.objects.get()
        self.assertEqual(sorted(form.versions.values_list("version", flat=True)), ["1", "2"])
        self.assertEqual(form.current_version.version, "2")

    def test_same_version_twice_is_refused(self) -> None:
        publish(self._write("a.xml", make_xform(version="1")))
        with self.assertRaisesMessage(CommandError, "409.40"):
            publish(self._write("b.xml", make_xform(version="1", title="Changed")))

    def test_draft(self) -> None:
        publish(self._write("a.xml", make_xform(version="1")))
        output = publish(self._write("b.xml", make_xform(version="2")), "--draft")
        draft = FormVersion.objects.get(is_draft=True)
        self.assertIn(f"/test/{draft.draft_token}", output)
        self.assertEqual(Form.objects.get().current_version.version, "1")
        publishing.publish_draft(draft.form)
        self.assertEqual(Form.objects.get().current_version.version, "2")

    def test_a_new_draft_replaces_the_old_one(self) -> None:
        publish(self._write("a.xml", make_xform(version="2")), "--draft")
        publish(self._write("b.xml", make_xform(version="3")), "--draft")
        self.assertEqual(list(FormVersion.objects.values_list("version", flat=True)), ["3"])

    def test_invalid_form_is_refused_with_the_validator_message(self) -> None:
        with self.assertRaises(CommandError) as caught:
            publish(self._write("bad.xml", INVALID_XFORM))
        self.assertIn("ODK Validate rejected the form", str(caught.exception))
        self.assertIn("= = 1", str(caught.exception))
        self.assertFalse(Form.objects.exists())

    def test_unconvertible_xlsform(self) -> None:
        bad = self._write("bad.md", b"| survey |\n| | type | name |\n| | text_wrong_type | q1 |\n")
        with self.assertRaisesMessage(CommandError, "could not be converted"):
            publish(bad)

    def test_unknown_area(self) -> None:
        with self.assertRaisesMessage(CommandError, "No protected area with id 999"):
            publish(self._write("a.xml", make_xform()), "--area", "999", "--no-validate")

    def test_unsupported_file(self) -> None:
        with self.assertRaisesMessage(CommandError, "not a form file"):
            publish(self._write("a.pdf", b"%PDF"))

    def test_bad_media_name(self) -> None:
        with self.assertRaises(Problem):
            publishing.publish_form_version(
                "a.xml", make_xform(), media=[publishing.MediaUpload("../x.png", b"x")], validate=False
            )

    def test_two_different_media_files_with_one_name_are_refused(self) -> None:
        media = [publishing.MediaUpload("zebra.png", b"one"), publishing.MediaUpload("zebra.png", b"two")]
        with self.assertRaises(Problem) as caught:
            publishing.publish_form_version(
                "a.xml", make_xform(media=["zebra.png"]), media=media, validate=False
            )
        self.assertEqual(caught.exception.code, "400.46")
        self.assertFalse(Form.objects.exists())

    def test_the_same_media_file_twice_is_kept_once(self) -> None:
        media = [
            publishing.MediaUpload("zebra.png", b"one"),
            publishing.MediaUpload("zebra.png", BytesIO(b"one")),
        ]
        version = publishing.publish_form_version(
            "a.xml", make_xform(media=["zebra.png"]), media=media, validate=False
        )
        self.assertEqual(
            [(m.name, m.file.read()) for m in version.media_files.all()], [("zebra.png", b"one")]
        )

    def _write(self, name: str, content: bytes) -> Path:
        import tempfile

        directory = Path(self.enterContext(tempfile.TemporaryDirectory()))
        path = directory / name
        path.write_bytes(content)
        return path
