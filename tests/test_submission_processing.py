"""Processing after the answer: states, the processor hook, failures that lose nothing,
reprocessing, encrypted submissions waiting for their key, and a broker that is down."""

from __future__ import annotations

from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.test import override_settings

from odk_forms import processing, storage
from odk_forms.models import ProcessingState, Submission
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_instance, post_submission

CALLS: list[tuple[int, bytes]] = []


def record_processor(submission: Submission, xml: bytes) -> None:
    CALLS.append((submission.pk, xml))


def failing_processor(submission: Submission, xml: bytes) -> None:
    raise ValueError("no patrol for this route")


RECORD = "tests.test_submission_processing.record_processor"
FAIL = "tests.test_submission_processing.failing_processor"


class ProcessingTest(BaseTestCase):
    def setUp(self) -> None:
        CALLS.clear()
        self.version = make_form([self.area])

    def submit(self, xml: bytes | None = None):  # type: ignore[no-untyped-def]
        with self.captureOnCommitCallbacks(execute=True):
            return post_submission(self.client, xml or make_instance())

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[RECORD])
    def test_processors_get_the_submission_and_its_xml(self) -> None:
        xml = make_instance()
        self.assertEqual(self.submit(xml).status_code, 201)
        submission = Submission.objects.get()
        self.assertEqual(CALLS, [(submission.pk, xml)])
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSED, 1))
        self.assertIsNotNone(submission.processed_at)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[RECORD, FAIL])
    def test_failure_keeps_the_submission_and_the_201(self) -> None:
        response = self.submit()
        self.assertEqual(response.status_code, 201)
        submission = Submission.objects.get()
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertEqual(submission.processing_error, "ValueError: no patrol for this route")
        self.assertTrue(storage.read_bytes(submission.xml_file.name))

        with (
            override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[RECORD]),
            self.captureOnCommitCallbacks(execute=True),
        ):
            self.assertTrue(processing.reprocess_submission(submission))
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSED, 2))
        self.assertEqual(submission.processing_error, "")

    def test_work_is_claimed_once(self) -> None:
        self.submit()
        submission = Submission.objects.get()
        # Already processed: a second worker handed the same id does nothing.
        self.assertIsNone(processing.process_submission(submission.pk))
        submission.refresh_from_db()
        self.assertEqual(submission.processing_attempts, 1)

    def test_a_reset_during_processing_wins(self) -> None:
        self.submit()
        submission = Submission.objects.get()
        Submission.objects.filter(pk=submission.pk).update(state=ProcessingState.RECEIVED)

        def reset_meanwhile(sub: Submission) -> dict[str, object]:
            # New attachments arrive while this run is under way.
            Submission.objects.filter(pk=sub.pk).update(state=ProcessingState.RECEIVED)
            return {}

        # The run notices and rolls back what it wrote; the queued run does the work.
        with mock.patch("odk_forms.processing.run", reset_meanwhile):
            self.assertIsNone(processing.process_submission(submission.pk))

    def test_broker_down_still_answers_201(self) -> None:
        with mock.patch(
            "odk_forms.tasks.process_submission_task.delay", side_effect=ConnectionError("no broker")
        ):
            response = self.submit()
        self.assertEqual(response.status_code, 201)
        submission = Submission.objects.get()
        self.assertEqual(submission.state, ProcessingState.RECEIVED)

        out = StringIO()
        call_command("process_submissions", stdout=out)
        self.assertIn("1 processed", out.getvalue())
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[FAIL])
    def test_command_retries_failed_ones_on_request(self) -> None:
        self.submit()
        call_command("process_submissions", stdout=StringIO())
        self.assertEqual(Submission.objects.get().state, ProcessingState.FAILED)
        with override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[]):
            call_command("process_submissions", "--failed", stdout=StringIO())
        self.assertEqual(Submission.objects.get().state, ProcessingState.PROCESSED)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[RECORD])
    def test_encrypted_waits_for_decryption(self) -> None:
        make_form([self.area], form_id="secret", public_key="MIIB")
        envelope = (
            b'<data id="secret" version="1" encrypted="yes"><meta><instanceID>uuid:s1</instanceID></meta>'
            b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>"
        )
        with self.captureOnCommitCallbacks(execute=True):
            post_submission(self.client, envelope, {"submission.xml.enc": b"\x00"})
        submission = Submission.objects.get()
        self.assertEqual(submission.state, ProcessingState.NEEDS_KEY)
        self.assertEqual(CALLS, [])

        # What decryption does: store the plain XML, then process again.
        plain = make_instance(form_id="secret", instance_id="uuid:s1")
        storage.make_directory("decrypted")
        submission.decrypted_xml.name = storage.write_bytes("decrypted/s1.xml", plain).name
        submission.save(update_fields=["decrypted_xml"])
        with self.captureOnCommitCallbacks(execute=True):
            processing.reprocess_submission(submission)
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)
        self.assertEqual(CALLS, [(submission.pk, plain)])
