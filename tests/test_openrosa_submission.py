from __future__ import annotations

import http.client
import io
import uuid
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

from django.conf import settings
from django.test import LiveServerTestCase, override_settings

from accounts.models import AreaMembership, CollectorToken, Role, User
from fieldkit import errors
from odk_forms import publishing, receiving, storage
from odk_forms.models import Attachment, FormState, ProcessingState, RejectedSubmission, Submission
from tests.base import PASSWORD, BaseTestCase
from tests.builders import make_area
from tests.xml_builders import (
    RESPONSE_NS,
    file_part,
    make_form,
    make_instance,
    multipart_body,
    openrosa_headers,
    photo_bytes,
    post_submission,
    raw_multipart,
)


def message_of(response) -> str:  # type: ignore[no-untyped-def]
    from defusedxml.ElementTree import fromstring

    root = fromstring(response.content)
    assert root.tag == f"{RESPONSE_NS}OpenRosaResponse"
    return root.find(f"{RESPONSE_NS}message").text


class SubmissionTestCase(BaseTestCase):
    def setUp(self) -> None:
        self.version = make_form([self.area])

    def submit(
        self, xml: bytes, files: dict[str, bytes] | None = None, username: str | None = "collector", **kw
    ):  # type: ignore[no-untyped-def]
        with self.captureOnCommitCallbacks(execute=True):
            return post_submission(self.client, xml, files, username, **kw)

    def assertOpenRosa(self, response, status: int) -> None:  # type: ignore[no-untyped-def]
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "text/xml; charset=utf-8")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")
        self.assertEqual(
            response["X-OpenRosa-Accept-Content-Length"], str(settings.OPENROSA_MAX_SUBMISSION_BYTES)
        )
        self.assertTrue(response.has_header("Date"))
        self.assertTrue(response.has_header("Content-Language"))


class ProbeTest(SubmissionTestCase):
    def test_head_is_204_with_max_size(self) -> None:
        response = self.client.head("/submission", **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["X-OpenRosa-Accept-Content-Length"], "100000000")
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")

    def test_get_is_204(self) -> None:
        response = self.client.get("/submission", **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 204)

    def test_head_without_credentials_is_challenged(self) -> None:
        response = self.client.head("/submission", **openrosa_headers(None))
        self.assertEqual(response.status_code, 401)
        self.assertIn("Digest", response["WWW-Authenticate"])
        self.assertEqual(response["X-OpenRosa-Version"], "1.0")

    def test_put_is_405(self) -> None:
        response = self.client.put("/submission", **openrosa_headers("collector"))
        self.assertEqual(response.status_code, 405)
        self.assertIn("POST", response["Allow"])


class SubmitTest(SubmissionTestCase):
    def test_it_works(self) -> None:
        xml = make_instance(photo="photo.jpg")
        response = self.submit(xml, {"photo.jpg": photo_bytes()}, deviceID="collect:abc")
        self.assertOpenRosa(response, 201)
        self.assertIn("received", message_of(response))
        submission = Submission.objects.get()
        self.assertEqual(submission.form_version, self.version)
        self.assertEqual(submission.submitted_by, self.collector)
        self.assertEqual(submission.device_id, "")  # deviceID comes in the query string
        self.assertEqual(submission.state, ProcessingState.PROCESSED)
        self.assertEqual(Path(settings.MEDIA_ROOT, submission.xml_file.name).read_bytes(), xml)
        attachment = submission.attachments.get(is_referenced=True)
        self.assertEqual(
            (attachment.name, attachment.size, attachment.is_referenced), ("photo.jpg", 2048, True)
        )
        self.assertEqual(attachment.file.read(), photo_bytes())
        self.assertEqual(submission.metadata["attachments_missing"], [])
        # A part the server does not know, here a plain field, is kept too, as sent, and
        # left out of processing.
        field = submission.attachments.get(is_referenced=False)
        self.assertEqual((field.name, field.file.read()), ("deviceID", b"collect:abc"))

    def test_it_records_the_device_id(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/submission?deviceID=collect%3Aabc123",
                {"xml_submission_file": io.BytesIO(make_instance())},
                **openrosa_headers("collector"),
            )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Submission.objects.get().device_id, "collect:abc123")

    def test_member_and_owner_may_submit(self) -> None:
        for username in ("member", "owner"):
            self.assertEqual(self.submit(make_instance(), username=username).status_code, 201)

    def test_it_validates_area_membership(self) -> None:
        # Answered as if the form did not exist: other areas' forms are not disclosed.
        response = self.submit(make_instance(), username="outsider")
        self.assertOpenRosa(response, 404)
        self.assertIn("404.7", message_of(response))
        self.assertFalse(Submission.objects.exists())

    def test_it_requires_authentication(self) -> None:
        response = self.submit(make_instance(), username=None)
        self.assertOpenRosa(response, 401)
        self.assertIn("Digest", response["WWW-Authenticate"])

    def test_collector_token_url(self) -> None:
        token = CollectorToken.objects.create(user=self.collector).token
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                f"/key/{token}/submission",
                {"xml_submission_file": io.BytesIO(make_instance())},
                HTTP_X_OPENROSA_VERSION="1.0",
            )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Submission.objects.get().submitted_by, self.collector)

    def test_bad_token_is_403(self) -> None:
        response = self.client.post(
            "/key/nope/submission", {"xml_submission_file": io.BytesIO(make_instance())}
        )
        self.assertOpenRosa(response, 403)

    def test_wrong_openrosa_version_header(self) -> None:
        headers = {**openrosa_headers("collector"), "HTTP_X_OPENROSA_VERSION": "2.0"}
        response = self.client.post(
            "/submission", {"xml_submission_file": io.BytesIO(make_instance())}, **headers
        )
        self.assertOpenRosa(response, 400)

    def test_raw_collect_style_body(self) -> None:
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": photo_bytes()})
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.generic(
                "POST", "/submission", body, content_type=content_type, **openrosa_headers("collector")
            )
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Submission.objects.get().attachments.get().name, "p.jpg")

    def test_chunked_body_without_content_length(self) -> None:
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": photo_bytes(300_000)})
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.generic(
                "POST",
                "/submission",
                b"",
                CONTENT_TYPE=content_type,
                CONTENT_LENGTH="",
                HTTP_TRANSFER_ENCODING="chunked",
                **{"wsgi.input": io.BytesIO(body)},
                **openrosa_headers("collector"),
            )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Submission.objects.get().attachments.get().size, 300_000)

    @override_settings(OPENROSA_MAX_SUBMISSION_BYTES=10_000)
    def test_chunked_body_over_the_cap(self) -> None:
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": photo_bytes(20_000)})
        response = self.client.generic(
            "POST",
            "/submission",
            b"",
            CONTENT_TYPE=content_type,
            CONTENT_LENGTH="",
            HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input": io.BytesIO(body)},
            **openrosa_headers("collector"),
        )
        self.assertOpenRosa(response, 413)
        self.assertFalse(Submission.objects.exists())

    def test_declared_length_over_the_cap_is_refused_unread(self) -> None:
        stream = mock.Mock()
        response = self.client.generic(
            "POST",
            "/submission",
            b"",
            CONTENT_TYPE="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(100_000_001),
            **{"wsgi.input": stream},
            **openrosa_headers("collector"),
        )
        self.assertOpenRosa(response, 413)
        self.assertIn("at most 100 MB", message_of(response))
        stream.read.assert_not_called()

    def test_large_part_is_streamed_to_disk(self) -> None:
        big = photo_bytes(3_000_000)
        response = self.submit(make_instance(photo="big.jpg"), {"big.jpg": big})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Submission.objects.get().attachments.get().size, 3_000_000)

    def test_not_multipart(self) -> None:
        response = self.client.post(
            "/submission", make_instance(), content_type="text/xml", **openrosa_headers("collector")
        )
        self.assertOpenRosa(response, 400)

    def test_missing_xml_part(self) -> None:
        response = self.client.post(
            "/submission", {"photo.jpg": io.BytesIO(b"x")}, **openrosa_headers("collector")
        )
        self.assertOpenRosa(response, 400)
        self.assertIn("xml_submission_file", message_of(response))

    def test_bad_xml(self) -> None:
        response = self.submit(b"<data id='patrol'><unclosed></data>")
        self.assertOpenRosa(response, 400)
        self.assertIn("400.13", message_of(response))
        self.assertFalse(Submission.objects.exists())
        # The server keeps the refused upload, listed for admins, and nothing else.
        kept = list(Path(settings.MEDIA_ROOT, "submissions").rglob("*.xml"))
        self.assertEqual([p.name for p in kept], [Path(RejectedSubmission.objects.get().xml_file.name).name])

    def test_entities_are_refused(self) -> None:
        xml = (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<data id="patrol" version="1"><species>&b;</species></data>'
        )
        response = self.submit(xml)
        self.assertOpenRosa(response, 400)

    def test_external_entity_is_refused(self) -> None:
        xml = (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<data id="patrol" version="1"><species>&x;</species></data>'
        )
        self.assertOpenRosa(self.submit(xml), 400)

    def test_no_form_id(self) -> None:
        response = self.submit(b"<data><species>x</species></data>")
        self.assertOpenRosa(response, 400)
        self.assertIn("400.14", message_of(response))

    def test_unknown_form(self) -> None:
        response = self.submit(make_instance(form_id="nope"))
        self.assertOpenRosa(response, 404)
        self.assertIn("nope", message_of(response))

    def test_unknown_version(self) -> None:
        response = self.submit(make_instance(version="99"))
        self.assertOpenRosa(response, 404)
        self.assertIn("404.6", message_of(response))

    def test_older_versions_still_accept(self) -> None:
        make_form([self.area], version="2")
        self.assertEqual(self.submit(make_instance(version="1")).status_code, 201)
        self.assertEqual(self.submit(make_instance(version="2")).status_code, 201)
        self.assertEqual(
            sorted(Submission.objects.values_list("form_version__version", flat=True)), ["1", "2"]
        )

    def test_no_version_attribute_goes_to_the_current_version(self) -> None:
        current = make_form([self.area], version="2")
        self.assertEqual(self.submit(make_instance(version=None)).status_code, 201)
        self.assertEqual(Submission.objects.get().form_version, current)

    def test_closing_form_accepts(self) -> None:
        publishing.set_form_state(self.version.form, FormState.CLOSING)
        self.assertEqual(self.submit(make_instance()).status_code, 201)

    def test_closed_form_refuses(self) -> None:
        publishing.set_form_state(self.version.form, FormState.CLOSED)
        response = self.submit(make_instance())
        self.assertOpenRosa(response, 409)
        self.assertIn("409.2", message_of(response))

    def test_missing_instance_id_is_derived_from_content(self) -> None:
        xml = make_instance(instance_id="")
        self.assertEqual(self.submit(xml).status_code, 201)
        self.assertEqual(self.submit(xml).status_code, 201)
        submission = Submission.objects.get()
        self.assertTrue(submission.instance_id.startswith("uuid:"))

    def test_attachment_names_are_sanitised(self) -> None:
        body, content_type = raw_multipart(
            make_instance(photo="p.jpg"), {"../../etc/p.jpg": b"x", "C:\\x\\q.jpg": b"y"}
        )
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.generic(
                "POST", "/submission", body, content_type=content_type, **openrosa_headers("collector")
            )
        self.assertEqual(response.status_code, 201, response.content)
        # Recorded under the name the XML uses, or else the name sent; stored under a
        # sanitised name inside the media root.
        names = dict(Attachment.objects.values_list("name", "is_referenced"))
        self.assertEqual(names, {"p.jpg": True, "C:\\x\\q.jpg": False})
        for attachment in Attachment.objects.all():
            path = Path(settings.MEDIA_ROOT, attachment.file.name).resolve()
            self.assertTrue(path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()))
            self.assertIn(path.name, ("p.jpg", "q.jpg"))

    def test_unreferenced_parts_are_kept_but_flagged(self) -> None:
        self.submit(make_instance(photo="p.jpg"), {"p.jpg": b"x", "extra.jpg": b"y"})
        flags = dict(Attachment.objects.values_list("name", "is_referenced"))
        self.assertEqual(flags, {"p.jpg": True, "extra.jpg": False})

    def test_missing_attachment_is_reported(self) -> None:
        self.submit(make_instance(photo="p.jpg"))
        self.assertEqual(Submission.objects.get().metadata["attachments_missing"], ["p.jpg"])


class DuplicateTest(SubmissionTestCase):
    def test_identical_resend_is_201_and_one_record(self) -> None:
        xml = make_instance(photo="p.jpg")
        self.assertEqual(self.submit(xml, {"p.jpg": b"photo"}).status_code, 201)
        response = self.submit(xml, {"p.jpg": b"photo"})
        self.assertOpenRosa(response, 201)
        self.assertIn("already received", message_of(response))
        self.assertEqual(Submission.objects.count(), 1)
        self.assertEqual(Attachment.objects.count(), 1)
        # The copy of the re-sent XML and photo are not kept twice.
        self.assertEqual(len(list(Path(settings.MEDIA_ROOT, "submissions").rglob("*.xml"))), 1)
        self.assertEqual(len(list(Path(settings.MEDIA_ROOT, "submissions").rglob("p.jpg"))), 1)

    def test_split_upload_assembles(self) -> None:
        xml = make_instance(values={"photo2": "b.jpg"}, photo="a.jpg")
        first = self.submit(xml, {"a.jpg": b"aaa"}, **{"*isIncomplete*": "yes"})
        self.assertEqual(first.status_code, 201)
        second = self.submit(xml, {"b.jpg": b"bbb"})
        self.assertEqual(second.status_code, 201)
        self.assertIn("1 file(s) added", message_of(second))
        submission = Submission.objects.get()
        self.assertEqual(sorted(submission.attachments.values_list("name", flat=True)), ["a.jpg", "b.jpg"])
        self.assertEqual(submission.state, ProcessingState.PROCESSED)
        self.assertEqual(submission.processing_attempts, 2)

    def test_resent_file_with_new_bytes_replaces_it(self) -> None:
        xml = make_instance(photo="p.jpg")
        self.submit(xml, {"p.jpg": b"old"})
        self.submit(xml, {"p.jpg": b"new"})
        self.assertEqual(Attachment.objects.get().file.read(), b"new")

    def test_different_xml_same_instance_id_is_409(self) -> None:
        instance_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=instance_id))
        response = self.submit(make_instance(instance_id=instance_id, values={"count": "3"}))
        self.assertOpenRosa(response, 409)
        self.assertIn("409.1", message_of(response))
        self.assertEqual(Submission.objects.count(), 1)

    def test_same_instance_id_in_another_form_is_another_record(self) -> None:
        make_form([self.area], form_id="other")
        instance_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=instance_id))
        self.assertEqual(
            self.submit(make_instance(form_id="other", instance_id=instance_id)).status_code, 201
        )
        self.assertEqual(Submission.objects.count(), 2)


class EditTest(SubmissionTestCase):
    def test_edit_makes_a_new_version_and_keeps_history(self) -> None:
        original_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=original_id, photo="p.jpg"), {"p.jpg": b"photo"})
        edit_id = f"uuid:{uuid.uuid4()}"
        response = self.submit(
            make_instance(
                instance_id=edit_id, deprecated_id=original_id, photo="p.jpg", values={"count": "5"}
            )
        )
        self.assertOpenRosa(response, 201)
        original = Submission.objects.get(instance_id=original_id)
        edit = Submission.objects.get(instance_id=edit_id)
        self.assertFalse(original.is_current)
        self.assertTrue(edit.is_current)
        self.assertEqual(edit.previous, original)
        self.assertEqual(edit.root, original)
        self.assertEqual(edit.deprecated_id, original_id)
        # The photo the edit still refers to is carried over.
        self.assertEqual(edit.attachments.get().file.read(), b"photo")

        second_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=second_id, deprecated_id=edit_id, values={"count": "6"}))
        self.assertEqual(Submission.objects.get(instance_id=second_id).root, original)

    def test_edit_of_unknown_record_is_404(self) -> None:
        response = self.submit(make_instance(deprecated_id="uuid:unknown"))
        self.assertOpenRosa(response, 404)
        self.assertIn("404.5", message_of(response))

    def test_edit_of_superseded_version_is_409(self) -> None:
        original_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=original_id))
        self.submit(make_instance(deprecated_id=original_id, values={"count": "5"}))
        response = self.submit(make_instance(deprecated_id=original_id, values={"count": "7"}))
        self.assertOpenRosa(response, 409)
        self.assertIn("409.9", message_of(response))

    def test_outsider_cannot_edit(self) -> None:
        original_id = f"uuid:{uuid.uuid4()}"
        self.submit(make_instance(instance_id=original_id))
        response = self.submit(make_instance(deprecated_id=original_id), username="outsider")
        # The outsider may not send to the form at all: answered as a form that is not there.
        self.assertEqual(response.status_code, 404)
        self.assertTrue(Submission.objects.get(instance_id=original_id).is_current)


class EncryptedTest(SubmissionTestCase):
    def test_envelope_is_stored_and_waits_for_its_key(self) -> None:
        make_form([self.area], form_id="secret", public_key="MIIBIjANBgkq")
        envelope = (
            b'<data id="secret" version="1" encrypted="yes" xmlns="http://www.opendatakit.org/xforms/encrypted">'
            b"<base64EncryptedKey>abc</base64EncryptedKey>"
            b'<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:e1</orx:instanceID></orx:meta>'
            b"<media><file>p.jpg.enc</file></media><encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
            b"<base64EncryptedElementSignature>sig</base64EncryptedElementSignature></data>"
        )
        response = self.submit(envelope, {"submission.xml.enc": b"\x01\x02", "p.jpg.enc": b"\x03"})
        self.assertEqual(response.status_code, 201)
        submission = Submission.objects.get()
        self.assertTrue(submission.is_encrypted)
        self.assertEqual(submission.instance_id, "uuid:e1")
        self.assertEqual(submission.state, ProcessingState.NEEDS_KEY)
        self.assertEqual(
            dict(submission.attachments.values_list("name", "is_referenced")),
            {"submission.xml.enc": True, "p.jpg.enc": True},
        )

    def test_envelope_without_instance_id_is_refused(self) -> None:
        make_form([self.area], form_id="secret", public_key="MIIBIjANBgkq")
        envelope = (
            b'<data id="secret" version="1" encrypted="yes"><encryptedXmlFile>s.enc</encryptedXmlFile></data>'
        )
        response = self.submit(envelope)
        self.assertOpenRosa(response, 400)
        self.assertIn("400.16", message_of(response))


class DraftSubmissionTest(SubmissionTestCase):
    def test_draft_accepts_test_submissions_by_its_token(self) -> None:
        draft = make_form([self.area], version="2", draft=True)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                f"/test/{draft.draft_token}/submission",
                {"xml_submission_file": io.BytesIO(make_instance(version="2"))},
            )
        self.assertEqual(response.status_code, 201, response.content)
        submission = Submission.objects.get()
        self.assertTrue(submission.is_draft)
        self.assertIsNone(submission.submitted_by)

        # Publishing the draft drops the test data.
        publishing.publish_draft(draft.form)
        self.assertFalse(Submission.objects.exists())

    def test_unknown_draft_token(self) -> None:
        response = self.client.post(
            "/test/nope/submission", {"xml_submission_file": io.BytesIO(make_instance())}
        )
        self.assertOpenRosa(response, 404)

    def test_published_submission_url_does_not_reach_the_draft(self) -> None:
        make_form([self.area], form_id="fresh", version="1", draft=True)
        response = self.submit(make_instance(form_id="fresh"))
        self.assertEqual(response.status_code, 404)


class BodyTest(SubmissionTestCase):
    def post_raw(self, body: bytes, content_type: str):  # type: ignore[no-untyped-def]
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.generic(
                "POST", "/submission", body, content_type=content_type, **openrosa_headers("collector")
            )

    def test_a_body_cut_off_is_refused(self) -> None:
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": photo_bytes(100_000)})
        response = self.post_raw(body[:60_000], content_type)
        self.assertOpenRosa(response, 400)
        self.assertIn("400.15", message_of(response))
        self.assertFalse(Submission.objects.exists())

    @override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=3)
    def test_too_many_parts(self) -> None:
        files = {f"p{n}.jpg": b"x" for n in range(5)}
        response = self.post_raw(*raw_multipart(make_instance(), files))
        self.assertOpenRosa(response, 400)
        self.assertIn("more than 3 parts", message_of(response))

    def test_preamble_epilogue_and_padding_are_ignored(self) -> None:
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": b"photo"})
        boundary = content_type.split("boundary=")[1].encode()
        body = b"preamble\r\n" + body.replace(b"--" + boundary + b"\r\n", b"--" + boundary + b" \t\r\n")
        response = self.post_raw(body + b"epilogue", content_type)
        self.assertOpenRosa(response, 201)
        self.assertEqual(Attachment.objects.get().file.read(), b"photo")

    def test_a_multipart_body_without_a_boundary(self) -> None:
        response = self.post_raw(b"--x--\r\n", "multipart/form-data")
        self.assertOpenRosa(response, 400)
        self.assertIn("400.15", message_of(response))


class XmlCapTest(SubmissionTestCase):
    def test_huge_xml_part_is_refused(self) -> None:
        with mock.patch("odk_forms.receiving.MAX_XML_BYTES", 1000):
            response = self.submit(make_instance(values={"species": "x" * 2000}))
        self.assertOpenRosa(response, 413)
        self.assertIn("413.2", message_of(response))
        self.assertFalse(Submission.objects.exists())


class SubmissionTargetTest(SubmissionTestCase):
    def test_the_version_read_on_the_request_path_loads_the_rest_on_access(self) -> None:
        from odk_forms import queries

        target = queries.submission_target(self.collector, "patrol", "1")
        self.assertTrue(target.may_submit)
        self.assertEqual(bytes(target.xml), bytes(self.version.xml))  # deferred, not empty
        self.assertEqual(target.form.title, self.version.form.title)
        self.assertFalse(queries.submission_target(self.outsider, "patrol", "1").may_submit)
        self.assertIsNone(queries.submission_target(self.collector, "patrol", "2"))


class KeptRefusalTest(SubmissionTestCase):
    """Refused submissions are kept with what arrived, and their messages say so."""

    def test_huge_xml_part_is_kept(self) -> None:
        xml = make_instance(values={"species": "x" * 2000}, photo="p.jpg")
        with mock.patch("odk_forms.receiving.MAX_XML_BYTES", 1000):
            response = self.submit(xml, {"p.jpg": b"photo"})
        self.assertOpenRosa(response, 413)
        self.assertIn("kept", message_of(response))
        rejected = RejectedSubmission.objects.get()
        self.assertEqual(rejected.error_code, "413.2")
        self.assertEqual(storage.read_bytes(rejected.xml_file.name), xml)
        self.assertEqual([storage.read_bytes(p["file"]) for p in rejected.parts], [b"photo"])

    def test_a_body_that_is_not_multipart_is_kept(self) -> None:
        xml = make_instance()
        response = self.client.post(
            "/submission", xml, content_type="text/xml", **openrosa_headers("collector")
        )
        self.assertOpenRosa(response, 400)
        self.assertIn("400.11", message_of(response))
        rejected = RejectedSubmission.objects.get()
        self.assertEqual((rejected.error_code, rejected.submitted_by), ("400.11", self.collector))
        self.assertEqual(storage.read_bytes(rejected.xml_file.name), xml)

    def test_an_empty_body_keeps_nothing(self) -> None:
        response = self.client.post(
            "/submission", b"", content_type="text/xml", **openrosa_headers("collector")
        )
        self.assertOpenRosa(response, 400)
        self.assertFalse(RejectedSubmission.objects.exists())
        self.assertEqual(list(Path(settings.MEDIA_ROOT, "submissions").rglob("*.*")), [])

    def test_files_without_their_xml_are_kept(self) -> None:
        response = self.client.post(
            "/submission", {"photo.jpg": io.BytesIO(b"photo")}, **openrosa_headers("collector")
        )
        self.assertOpenRosa(response, 400)
        self.assertIn("400.12", message_of(response))
        rejected = RejectedSubmission.objects.get()
        self.assertEqual((rejected.error_code, rejected.xml_file.name), ("400.12", ""))
        self.assertEqual(
            [(p["name"], storage.read_bytes(p["file"])) for p in rejected.parts], [("photo.jpg", b"photo")]
        )
        # Received again, it is still refused for the same reason, and still kept.
        with self.assertRaises(errors.Problem):
            receiving.receive_rejected(rejected)
        self.assertTrue(storage.media_root().joinpath(rejected.parts[0]["file"]).exists())

    def test_xml_sent_as_a_plain_field_keeps_its_bytes(self) -> None:
        xml = (
            b'<?xml version="1.0" encoding="ISO-8859-1"?><data id="patrol" version="1" '
            b'xmlns:orx="http://openrosa.org/xforms"><species>Pand\xe9mis</species>'
            b"<orx:meta><orx:instanceID>uuid:latin-1</orx:instanceID></orx:meta></data>"
        )
        body, content_type = multipart_body([file_part("xml_submission_file", xml, filename=None)])
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.generic(
                "POST", "/submission", body, content_type=content_type, **openrosa_headers("collector")
            )
        self.assertOpenRosa(response, 201)
        submission = Submission.objects.get()
        self.assertEqual(submission.instance_id, "uuid:latin-1")
        self.assertEqual(storage.read_bytes(submission.xml_file.name), xml)

    def test_messages_of_kept_refusals_never_say_nothing_was_saved(self) -> None:
        refusals = {
            "400.13": b"<data id='patrol'><unclosed></data>",
            "400.17": make_instance(instance_id="uuid:" + "x" * 300),
        }
        for code, xml in refusals.items():
            with self.subTest(code):
                response = self.submit(xml)
                self.assertIn(code, message_of(response))
                self.assertNotIn("nothing was saved", message_of(response))
                self.assertIn("kept a copy", message_of(response))
                self.assertTrue(RejectedSubmission.objects.filter(error_code=code).exists())

    def test_a_long_deprecated_id_is_not_reported_as_the_instance_id(self) -> None:
        response = self.submit(make_instance(deprecated_id="uuid:" + "d" * 300))
        self.assertOpenRosa(response, 400)
        self.assertIn("400.18", message_of(response))
        self.assertIn("deprecatedID", message_of(response))
        self.assertNotIn("instanceID", message_of(response))


class FormDisclosureTest(SubmissionTestCase):
    """A user who may not send to a form learns nothing about it: the answer is the one for
    a form that does not exist, whatever its versions or state."""

    def test_other_areas_forms_are_answered_like_missing_forms(self) -> None:
        make_form([self.other_area], form_id="tonda", version="3")
        closed = make_form([self.other_area], form_id="tonda-closed")
        publishing.set_form_state(closed.form, FormState.CLOSED)
        answers = {
            name: self.submit(make_instance(form_id=form_id, version=version))
            for name, (form_id, version) in {
                "missing": ("nowhere", "1"),
                "right version": ("tonda", "3"),
                "wrong version": ("tonda", "99"),
                "no version": ("tonda", None),
                "closed": ("tonda-closed", "1"),
            }.items()
        }
        for name, response in answers.items():
            with self.subTest(name):
                self.assertOpenRosa(response, 404)
                form_id = "nowhere" if name == "missing" else "tonda-closed" if name == "closed" else "tonda"
                self.assertEqual(
                    message_of(response), message_of(answers["missing"]).replace("'nowhere'", repr(form_id))
                )

    def test_a_user_who_may_submit_gets_the_specific_answer(self) -> None:
        response = self.submit(make_instance(version="99"))
        self.assertIn("404.6", message_of(response))
        publishing.set_form_state(self.version.form, FormState.CLOSED)
        self.assertIn("409.2", message_of(self.submit(make_instance())))


class EditRightsTest(SubmissionTestCase):
    """Who may edit whose records, in a form shared by two areas."""

    def setUp(self) -> None:
        self.version = make_form([self.area, self.other_area])
        self.other_collector = self._user("other-collector", self.other_area, Role.COLLECTOR)
        self.original_id = f"uuid:{uuid.uuid4()}"
        self.assertEqual(self.submit(make_instance(instance_id=self.original_id)).status_code, 201)

    def edit(self, username: str):  # type: ignore[no-untyped-def]
        return self.submit(
            make_instance(deprecated_id=self.original_id, values={"count": "9"}), username=username
        )

    def assertStillCurrent(self) -> None:
        self.assertTrue(Submission.objects.get(instance_id=self.original_id).is_current)
        self.assertEqual(Submission.objects.count(), 1)

    def test_a_collector_of_another_area_cannot_edit(self) -> None:
        response = self.edit("other-collector")
        self.assertOpenRosa(response, 403)
        self.assertIn("403.11", message_of(response))
        self.assertStillCurrent()
        self.assertEqual(RejectedSubmission.objects.get().error_code, "403.11")

    def test_a_manager_of_another_area_cannot_edit(self) -> None:
        self.assertEqual(self.edit("outsider").status_code, 403)
        self.assertStillCurrent()

    def test_another_collector_of_the_same_area_cannot_edit(self) -> None:
        self._user("colleague", self.area, Role.COLLECTOR)
        self.assertEqual(self.edit("colleague").status_code, 403)
        self.assertStillCurrent()

    def test_the_sender_edits_and_edits_again(self) -> None:
        self.assertEqual(self.edit("collector").status_code, 201)
        edit_id = Submission.objects.get(deprecated_id=self.original_id).instance_id
        again = self.submit(make_instance(deprecated_id=edit_id, values={"count": "10"}))
        self.assertEqual(again.status_code, 201)

    def test_a_member_of_the_senders_area_edits(self) -> None:
        self.assertEqual(self.edit("member").status_code, 201)
        self.assertFalse(Submission.objects.get(instance_id=self.original_id).is_current)

    def test_the_sender_may_edit_a_version_a_manager_made(self) -> None:
        self.assertEqual(self.edit("owner").status_code, 201)
        edit_id = Submission.objects.get(deprecated_id=self.original_id).instance_id
        response = self.submit(make_instance(deprecated_id=edit_id, values={"count": "11"}))
        self.assertEqual(response.status_code, 201)

    def test_a_superuser_edits(self) -> None:
        User.objects.create_superuser("root", "root@example.org", PASSWORD)
        self.assertEqual(self.edit("root").status_code, 201)

    def test_a_drafts_test_url_cannot_replace_a_published_record(self) -> None:
        draft = make_form([self.area], version="2", draft=True)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                f"/test/{draft.draft_token}/submission",
                {
                    "xml_submission_file": io.BytesIO(
                        make_instance(version="2", deprecated_id=self.original_id)
                    )
                },
            )
        self.assertOpenRosa(response, 404)
        self.assertIn("404.5", message_of(response))
        self.assertStillCurrent()


# The server's middleware reads its settings when the live server starts, before any
# per-test fixture: plain HTTP must be allowed for the whole class.
@override_settings(SECURE_SSL_REDIRECT=False)
class DevelopmentServerTest(LiveServerTestCase):
    """Under Django's development server (runserver, which serve.sh starts), as a client
    that sends its body in chunks."""

    def test_a_chunked_upload_is_refused_with_a_clear_message(self) -> None:
        area = make_area()
        collector = User.objects.create_user("collector", password=PASSWORD)
        AreaMembership.objects.create(user=collector, area=area, role=Role.COLLECTOR)
        make_form([area])
        token = CollectorToken.objects.create(user=collector).token
        body, content_type = raw_multipart(make_instance(photo="p.jpg"), {"p.jpg": photo_bytes()})

        url = urlsplit(self.live_server_url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.putrequest("POST", f"/key/{token}/submission")
        for header, value in {
            "Content-Type": content_type,
            "Transfer-Encoding": "chunked",
            "X-OpenRosa-Version": "1.0",
        }.items():
            connection.putheader(header, value)
        connection.endheaders()
        for start in range(0, len(body), 1000):
            chunk = body[start : start + 1000]
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        content = response.read()
        connection.close()

        self.assertEqual(response.status, 411, content)
        self.assertIn(b"411.1", content)
        self.assertIn(b"Content-Length", content)
        self.assertFalse(Submission.objects.exists())
