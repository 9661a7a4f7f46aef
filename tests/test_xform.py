"""odk_forms.xform: pure parsing of XForms and instances, hardened; file name sanitising."""

from __future__ import annotations

from django.test import SimpleTestCase

from odk_forms import xform
from tests.builders import SHARED_DATA
from tests.xml_builders import make_instance, make_xform

TRANSPORT = SHARED_DATA / "submissions/onadata_fixtures/main/tests/fixtures/transportation"


class ParseXFormTest(SimpleTestCase):
    def test_it_works(self) -> None:
        info = xform.parse_xform(make_xform(media=["b.png", "a.png"], photo_fields=("photo", "photo2")))
        self.assertEqual(
            (info.form_id, info.version, info.title, info.instance_root), ("patrol", "1", "Patrol", "data")
        )
        self.assertEqual(info.binary_paths, ("/data/photo", "/data/photo2"))
        self.assertEqual(info.media_names, ("a.png", "b.png"))
        self.assertFalse(info.is_encrypted)

    def test_real_form(self) -> None:
        info = xform.parse_xform((TRANSPORT / "transportation.xml").read_bytes())
        self.assertEqual((info.form_id, info.version), ("transportation_2011_07_25", "201411120717"))
        self.assertEqual(info.binary_paths, ("/data/image1",))

    def test_public_key(self) -> None:
        info = xform.parse_xform(make_xform(public_key="MIIB"))
        self.assertTrue(info.is_encrypted)

    def test_csv_and_file_instances_are_media(self) -> None:
        xml = make_xform().replace(
            b"<instance>", b'<instance id="trees" src="jr://file-csv/trees.csv"/><instance>', 1
        )
        self.assertEqual(xform.parse_xform(xml).media_names, ("trees.csv",))

    def test_not_an_xform(self) -> None:
        for bad in (
            b"<html/>",
            b"not xml",
            b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head/></h:html>',
        ):
            with self.subTest(bad), self.assertRaises(xform.XMLError):
                xform.parse_xform(bad)

    def test_form_without_id(self) -> None:
        with self.assertRaisesMessage(xform.XMLError, "no id"):
            xform.parse_xform(make_xform().replace(b' id="patrol"', b""))


class ParseInstanceTest(SimpleTestCase):
    def test_it_works(self) -> None:
        info = xform.parse_instance(make_instance(instance_id="uuid:1", deprecated_id="uuid:0"))
        self.assertEqual((info.form_id, info.version), ("patrol", "1"))
        self.assertEqual((info.instance_id, info.deprecated_id), ("uuid:1", "uuid:0"))
        self.assertFalse(info.instance_id_derived or info.encrypted)

    def test_no_version_attribute(self) -> None:
        self.assertIsNone(xform.parse_instance(make_instance(version=None)).version)

    def test_instance_id_on_the_root(self) -> None:
        attribute = b'<data id="f" instanceID="uuid:a"><x/></data>'
        child = b'<data id="f"><instanceID>uuid:b</instanceID></data>'
        self.assertEqual(xform.parse_instance(attribute).instance_id, "uuid:a")
        self.assertEqual(xform.parse_instance(child).instance_id, "uuid:b")

    def test_missing_instance_id_is_derived_from_the_bytes(self) -> None:
        first = xform.parse_instance(make_instance(instance_id=""))
        again = xform.parse_instance(make_instance(instance_id=""))
        other = xform.parse_instance(make_instance(instance_id="", values={"count": "9"}))
        self.assertTrue(first.instance_id_derived)
        self.assertEqual(first.instance_id, again.instance_id)
        self.assertNotEqual(first.instance_id, other.instance_id)

    def test_referenced_files_in_groups_and_repeats(self) -> None:
        xml = (
            b'<data id="f"><photo>a.jpg</photo><g><rep><pic>b.jpg</pic></rep><rep><pic>c.jpg</pic></rep>'
            b"<rep><pic/></rep></g><other>d.jpg</other></data>"
        )
        info = xform.parse_instance(xml)
        self.assertEqual(
            info.referenced_files(["/data/photo", "/data/g/rep/pic"]), frozenset({"a.jpg", "b.jpg", "c.jpg"})
        )
        self.assertEqual(info.referenced_files([]), frozenset())

    def test_referenced_files_ignore_the_root_name(self) -> None:
        # Old instances name their root after the form; the form says "data".
        info = xform.parse_instance(
            (
                TRANSPORT / "instances/transport_2011-07-25_19-05-49/transport_2011-07-25_19-05-49.xml"
            ).read_bytes()
        )
        self.assertEqual(info.referenced_files(["/data/image1"]), frozenset({"1335783522563.jpg"}))

    def test_encrypted_envelope(self) -> None:
        info = xform.parse_instance((TRANSPORT / "instances_encrypted/submission.xml").read_bytes())
        self.assertTrue(info.encrypted)
        self.assertEqual(info.instance_id, "uuid:c15252fe-b6f3-4853-8f04-bf89dc73985a")
        self.assertEqual(info.referenced_files(), frozenset({"submission.xml.enc"}))


class HardenedParsingTest(SimpleTestCase):
    def test_billion_laughs(self) -> None:
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><data id="f"><x>&c;</x></data>'
        )
        with self.assertRaisesMessage(xform.XMLError, "forbidden"):
            xform.parse_instance(bomb)

    def test_external_entity(self) -> None:
        xxe = (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<data id="f">&x;</data>'
        )
        with self.assertRaises(xform.XMLError):
            xform.parse_instance(xxe)

    def test_any_doctype(self) -> None:
        with self.assertRaises(xform.XMLError):
            xform.parse_xform(b'<!DOCTYPE html SYSTEM "http://example.org/x.dtd"><html/>')


class SanitizeFilenameTest(SimpleTestCase):
    def test_it_works(self) -> None:
        cases = {
            "photo.jpg": "photo.jpg",
            "../../etc/passwd": "passwd",
            "C:\\Users\\x\\IMG 1.jpg": "IMG 1.jpg",
            "..": "",
            ".": "",
            "": "",
            "a\x00b.jpg": "a_b.jpg",
            "what?.jpg": "what_.jpg",
            "trailing. ": "trailing",
            "e\u0301.jpg": "\u00e9.jpg",
        }
        for raw, expected in cases.items():
            with self.subTest(raw=raw):
                self.assertEqual(xform.sanitize_filename(raw), expected)

    def test_long_names_keep_their_extension(self) -> None:
        name = xform.sanitize_filename("x" * 300 + ".jpg")
        self.assertTrue(name.endswith(".jpg"))
        self.assertLessEqual(len(name.encode()), 200)


class ChecksTest(SimpleTestCase):
    def test_java_missing(self) -> None:
        from unittest import mock

        from odk_forms import checks

        with mock.patch("odk_forms.checks.shutil.which", return_value=None):
            self.assertEqual([w.id for w in checks.check_odk_validate()], ["odk_forms.W001"])
        with (
            self.settings(ODK_FORMS_VALIDATE=False),
            mock.patch("odk_forms.checks.shutil.which", return_value=None),
        ):
            self.assertEqual(checks.check_odk_validate(), [])

    def test_fsync_off(self) -> None:
        from odk_forms import checks

        with self.settings(ODK_FORMS_FSYNC=False):
            self.assertEqual([w.id for w in checks.check_fsync()], ["odk_forms.W002"])
        self.assertEqual(checks.check_fsync(), [])
