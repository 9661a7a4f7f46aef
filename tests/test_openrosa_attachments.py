"""The files of a submission (POST /submission): every part that arrives is stored, under
a name of its own on disk, and linked to its record by the name the XML gives it; parts
that cannot be told apart refuse the submission, which is kept whole."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from django.conf import settings

from odk_forms import receiving, storage
from odk_forms.models import Attachment, RejectedSubmission, Submission
from tests.base import BaseTestCase
from tests.test_openrosa_submission import message_of
from tests.xml_builders import (
    file_part,
    make_form,
    make_instance,
    multipart_body,
    openrosa_headers,
    photo_bytes,
    post_submission,
)

NFC = unicodedata.normalize("NFC", "café.jpg")
NFD = unicodedata.normalize("NFD", "café.jpg")


class AttachmentTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area], photo_fields=("photo", "photo2"))

    def post(self, xml: bytes, *parts: tuple[bytes, bytes], username: str = "collector"):  # type: ignore[no-untyped-def]
        """POST the XML part then `parts` (from file_part), byte for byte."""
        body, content_type = multipart_body(
            [file_part("xml_submission_file", xml, "submission.xml", "text/xml"), *parts]
        )
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.generic(
                "POST", "/submission", body, content_type=content_type, **openrosa_headers(username)
            )

    def attachments(self) -> dict[str, tuple[bytes, bool]]:
        return {a.name: (a.file.read(), a.is_referenced) for a in Attachment.objects.all()}

    def stored_files(self) -> list[Path]:
        return sorted(p for p in Path(settings.MEDIA_ROOT, "submissions").rglob("*") if p.is_file())

    def assertKeptWhole(self, response, xml: bytes, *contents: bytes) -> RejectedSubmission:  # type: ignore[no-untyped-def]
        """Refused with 400.19, no record, and the XML and every part kept."""
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("400.19", message_of(response))
        self.assertIn("kept", message_of(response))
        self.assertFalse(Submission.objects.exists())
        rejected = RejectedSubmission.objects.get()
        self.assertEqual(rejected.error_code, "400.19")
        self.assertEqual(storage.read_bytes(rejected.xml_file.name), xml)
        self.assertEqual(sorted(storage.read_bytes(p["file"]) for p in rejected.parts), sorted(contents))
        return rejected


class SameNameTest(AttachmentTestCase):
    def test_two_different_files_with_one_name_are_refused_and_kept(self) -> None:
        xml = make_instance(photo="p.jpg")
        response = self.post(xml, file_part("p.jpg", b"first"), file_part("p.jpg", b"second"))
        rejected = self.assertKeptWhole(response, xml, b"first", b"second")
        self.assertIn("'p.jpg'", rejected.error)
        self.assertEqual([p["name"] for p in rejected.parts], ["p.jpg", "p.jpg"])

    def test_the_same_file_twice_is_stored_once(self) -> None:
        response = self.post(
            make_instance(photo="p.jpg"), file_part("p.jpg", b"same"), file_part("p.jpg", b"same")
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"p.jpg": (b"same", True)})
        self.assertEqual(len(self.stored_files()), 2)  # the XML and one copy of the photo

    def test_one_name_in_two_folders_claimed_by_the_xml_is_refused_and_kept(self) -> None:
        xml = make_instance(photo="p.jpg")
        response = self.post(xml, file_part("a/p.jpg", b"from a"), file_part("b/p.jpg", b"from b"))
        self.assertKeptWhole(response, xml, b"from a", b"from b")

    def test_one_name_in_two_folders_not_named_by_the_xml_is_kept_twice(self) -> None:
        response = self.post(
            make_instance(photo="q.jpg"), file_part("a/p.jpg", b"from a"), file_part("b/p.jpg", b"from b")
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"a/p.jpg": (b"from a", False), "b/p.jpg": (b"from b", False)})

    def test_the_xml_names_the_file_exactly_the_other_copy_stays_unreferenced(self) -> None:
        response = self.post(
            make_instance(photo="p.jpg"), file_part("p.jpg", b"exact"), file_part("a/p.jpg", b"in a folder")
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"p.jpg": (b"exact", True), "a/p.jpg": (b"in a folder", False)})

    def test_nfc_and_nfd_spellings_are_both_kept(self) -> None:
        response = self.post(
            make_instance(photo=NFC), file_part(NFC, b"composed"), file_part(NFD, b"decomposed")
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {NFC: (b"composed", True), NFD: (b"decomposed", False)})
        self.assertEqual(len(self.stored_files()), 3)

    def test_a_file_spelled_in_another_unicode_form_is_linked(self) -> None:
        response = self.post(make_instance(photo=NFD), file_part(NFC, b"photo"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {NFD: (b"photo", True)})
        self.assertEqual(Submission.objects.get().metadata["attachments_missing"], [])

    def test_names_sanitised_alike_are_both_kept(self) -> None:
        response = self.post(
            make_instance(photo="x?.jpg"), file_part("x?.jpg", b"question"), file_part("x*.jpg", b"star")
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"x?.jpg": (b"question", True), "x*.jpg": (b"star", False)})
        files = Attachment.objects.values_list("file", flat=True)
        self.assertEqual(len(set(files)), 2)
        for name in files:
            self.assertFalse(set(Path(name).name) & set('?*:"<>|'))

    def test_the_same_xml_twice_is_one_record(self) -> None:
        xml = make_instance()
        response = self.post(xml, file_part("xml_submission_file", xml, "submission.xml"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertFalse(Attachment.objects.exists())

    def test_two_different_xml_parts_are_refused_and_kept(self) -> None:
        xml, other = make_instance(), make_instance()
        response = self.post(xml, file_part("xml_submission_file", other, "submission.xml"))
        self.assertKeptWhole(response, xml, other)


class UnusualPartTest(AttachmentTestCase):
    def test_a_part_named_dot_dot_is_kept(self) -> None:
        response = self.post(make_instance(photo="p.jpg"), file_part("..", b"dots"), file_part("p.jpg", b"p"))
        self.assertEqual(response.status_code, 201, response.content)
        kept = self.attachments()
        self.assertEqual(kept.pop("p.jpg"), (b"p", True))
        self.assertEqual(list(kept.values()), [(b"dots", False)])
        for path in self.stored_files():
            self.assertTrue(path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve()))

    def test_a_part_with_a_line_break_in_its_name_is_kept(self) -> None:
        response = self.post(make_instance(photo="p.jpg"), file_part(b"p\r\n.jpg", b"broken name"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual([content for content, _ in self.attachments().values()], [b"broken name"])

    def test_a_part_without_a_name_is_kept(self) -> None:
        response = self.post(make_instance(), (b"Content-Type: image/jpeg", b"nameless"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual([content for content, _ in self.attachments().values()], [b"nameless"])

    def test_a_file_sent_as_a_plain_field_is_linked(self) -> None:
        response = self.post(make_instance(photo="p.jpg"), file_part("p.jpg", b"\xff\xd8raw", filename=None))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"p.jpg": (b"\xff\xd8raw", True)})

    def test_a_file_named_differently_from_its_part_is_linked_by_either(self) -> None:
        # Some clients name every file part "file" and give the file name apart.
        response = self.post(
            make_instance(photo="a.jpg", values={"photo2": "b.jpg"}),
            file_part("file", b"a", filename="a.jpg"),
            file_part("file", b"b", filename="b.jpg"),
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {"a.jpg": (b"a", True), "b.jpg": (b"b", True)})


class UnsafeNameTest(AttachmentTestCase):
    NAME = 'ranger: snare * 2? "big" <cut> |3|.jpg'

    def test_a_photo_whose_name_is_unsafe_on_disk_stays_linked_to_its_record(self) -> None:
        # Browsers and OkHttp (ODK Collect) send " in a part name as %22.
        sent = self.NAME.replace('"', "%22")
        photo = photo_bytes(5000, seed=9)
        response = self.post(make_instance(photo=self.NAME), file_part(sent, photo))
        self.assertEqual(response.status_code, 201, response.content)
        attachment = Attachment.objects.get()
        self.assertEqual((attachment.name, attachment.is_referenced), (self.NAME, True))
        self.assertEqual(attachment.file.read(), photo)
        self.assertFalse(set(Path(attachment.file.name).name) & set('?*:"<>|'))
        submission = Submission.objects.get()
        self.assertEqual(submission.metadata["attachments_missing"], [])
        self.assertEqual(submission.metadata["attachments_present"], 1)

    def test_it_stays_linked_when_sent_by_the_test_client(self) -> None:
        name = "x:y*z?.jpg"
        with self.captureOnCommitCallbacks(execute=True):
            response = post_submission(self.client, make_instance(photo=name), {name: b"photo"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(self.attachments(), {name: (b"photo", True)})

    def test_a_split_upload_links_its_second_batch(self) -> None:
        xml = make_instance(photo="a?.jpg", values={"photo2": "b|.jpg"})
        self.assertEqual(self.post(xml, file_part("a?.jpg", b"a")).status_code, 201)
        self.assertEqual(self.post(xml, file_part("b|.jpg", b"b")).status_code, 201)
        self.assertEqual(self.attachments(), {"a?.jpg": (b"a", True), "b|.jpg": (b"b", True)})
        self.assertEqual(Submission.objects.get().metadata["attachments_missing"], [])

    def test_an_edit_keeps_the_file_it_still_names(self) -> None:
        original = "uuid:unsafe-1"
        self.post(
            make_instance(instance_id=original, photo=self.NAME),
            file_part(self.NAME.replace('"', "%22"), b"p"),
        )
        response = self.post(make_instance(deprecated_id=original, photo=self.NAME, values={"count": "3"}))
        self.assertEqual(response.status_code, 201, response.content)
        edit = Submission.objects.get(deprecated_id=original)
        self.assertEqual(list(edit.attachments.values_list("name", "is_referenced")), [(self.NAME, True)])

    def test_a_refused_submission_received_again_links_its_files(self) -> None:
        xml = make_instance(form_id="later", photo="snare?.jpg")
        response = self.post(xml, file_part("snare?.jpg", b"snare"))
        self.assertEqual(response.status_code, 404)
        rejected = RejectedSubmission.objects.get()
        make_form([self.area], form_id="later")
        with self.captureOnCommitCallbacks(execute=True):
            received = receiving.receive_rejected(rejected)
        attachment = received.submission.attachments.get()
        self.assertEqual((attachment.name, attachment.is_referenced), ("snare?.jpg", True))
        self.assertEqual(attachment.file.read(), b"snare")
        self.assertFalse(storage.media_root().joinpath(rejected.parts_dir).exists())
