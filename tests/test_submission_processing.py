"""Processing after the answer: states, the processor hook, failures that lose nothing,
reprocessing, encrypted submissions waiting for their key, a broker that is down, leases
that run out (a worker killed mid-way) and a busy database."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from fieldkit.celery import app
from odk_forms import processing, storage
from odk_forms.models import ProcessingState, Submission
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_instance, post_submission

CALLS: list[tuple[int, bytes]] = []


def record_processor(submission: Submission, xml: bytes) -> None:
    CALLS.append((submission.pk, xml))


def failing_processor(submission: Submission, xml: bytes) -> None:
    raise ValueError("no patrol for this route")


BUSY_ONCE: list[bool] = []


def busy_once_processor(submission: Submission, xml: bytes) -> None:
    """SQLite's answer when another writer held the file past the busy timeout."""
    if not BUSY_ONCE:
        BUSY_ONCE.append(True)
        raise OperationalError("database is locked")
    CALLS.append((submission.pk, xml))


RECORD = "tests.test_submission_processing.record_processor"
FAIL = "tests.test_submission_processing.failing_processor"
BUSY_ONCE_PATH = "tests.test_submission_processing.busy_once_processor"


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


def past(seconds: float = 1) -> object:
    return timezone.now() - timedelta(seconds=seconds)


@override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[RECORD])
class LeaseTest(BaseTestCase):
    """A worker killed mid-way: its transaction is rolled back, the submission stays
    `processing` with a lease that runs out; then it must run again by itself."""

    def setUp(self) -> None:
        CALLS.clear()
        make_form([self.area])
        self.xml = make_instance(instance_id="uuid:lease-1")

    def submit(self):  # type: ignore[no-untyped-def]
        with self.captureOnCommitCallbacks(execute=True):
            return post_submission(self.client, self.xml)

    def killed_mid_way(self, lease_left: float = -1, **fields: object) -> Submission:
        """The state a worker killed after its claim leaves behind."""
        with mock.patch("odk_forms.processing.enqueue"):
            self.submit()
        submission = Submission.objects.get()
        self.assertTrue(
            Submission.objects.filter(pk=submission.pk).update(
                state=ProcessingState.PROCESSING,
                processing_attempts=1,
                lease_expires=timezone.now() + timedelta(seconds=lease_left),
                **fields,
            )
        )
        CALLS.clear()
        return submission

    def test_the_claim_takes_a_lease_and_the_end_gives_it_back(self) -> None:
        seen = []
        with mock.patch(
            "odk_forms.processing.run",
            lambda sub: seen.append(Submission.objects.get(pk=sub.pk).lease_expires) or {},
        ):
            self.submit()
        lease = seen[0] - timezone.now()
        self.assertTrue(timedelta(seconds=settings.ODK_FORMS_PROCESSING_LEASE - 60) < lease, lease)
        submission = Submission.objects.get()
        self.assertEqual((submission.state, submission.lease_expires), (ProcessingState.PROCESSED, None))

    def test_the_sweep_runs_a_submission_whose_lease_ran_out(self) -> None:
        submission = self.killed_mid_way()
        with self.captureOnCommitCallbacks(execute=True):
            report = processing.sweep()
        self.assertEqual(report.requeued, 1)
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSED, 2))
        self.assertEqual(CALLS, [(submission.pk, self.xml)])
        self.assertEqual((submission.lease_expires, submission.leases_lost), (None, 0))

    def test_the_sweep_leaves_a_live_lease_alone(self) -> None:
        submission = self.killed_mid_way(lease_left=60)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(processing.sweep().requeued, 0)
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSING)
        self.assertEqual(CALLS, [])

    def test_a_claim_from_before_leases_counts_as_run_out(self) -> None:
        submission = self.killed_mid_way()
        Submission.objects.filter(pk=submission.pk).update(lease_expires=None)
        with self.captureOnCommitCallbacks(execute=True):
            processing.sweep()
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    def test_the_sweep_queues_a_submission_left_waiting(self) -> None:
        with mock.patch(
            "odk_forms.tasks.process_submission_task.delay", side_effect=ConnectionError("no broker")
        ):
            self.submit()
        submission = Submission.objects.get()
        self.assertEqual(submission.state, ProcessingState.RECEIVED)
        # Not yet: it may still be in a queue.
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(processing.sweep().queued, 0)
        Submission.objects.filter(pk=submission.pk).update(
            received_at=past(settings.ODK_FORMS_PROCESSING_LEASE)
        )
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(processing.sweep().queued, 1)
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    def test_a_waiting_submission_is_queued_once_per_lease(self) -> None:
        with mock.patch("odk_forms.processing.enqueue"):
            self.submit()
        Submission.objects.update(received_at=past(settings.ODK_FORMS_PROCESSING_LEASE))
        with (
            mock.patch("odk_forms.processing.enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            processing.sweep()
            processing.sweep()
        self.assertEqual(enqueue.call_count, 1)

    def test_a_resend_queues_a_stuck_submission(self) -> None:
        submission = self.killed_mid_way()
        # The phone never got its answer, or the ranger sends again: "nothing new", but the
        # stuck work is queued.
        response = self.submit()
        self.assertEqual(response.status_code, 201)
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSED, 2))
        self.assertEqual(CALLS, [(submission.pk, self.xml)])

    def test_a_resend_queues_a_submission_never_queued(self) -> None:
        with mock.patch(
            "odk_forms.tasks.process_submission_task.delay", side_effect=ConnectionError("no broker")
        ):
            self.submit()
        self.assertEqual(self.submit().status_code, 201)
        self.assertEqual(Submission.objects.get().state, ProcessingState.PROCESSED)

    def test_a_resend_leaves_a_live_worker_alone(self) -> None:
        submission = self.killed_mid_way(lease_left=60)
        self.submit()
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSING, 1))
        self.assertEqual(CALLS, [])

    def test_the_command_takes_run_out_leases_without_being_asked(self) -> None:
        submission = self.killed_mid_way()
        out = StringIO()
        call_command("process_submissions", stdout=out)
        self.assertIn("1 processed", out.getvalue())
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    def test_the_command_leaves_live_leases_unless_stuck_is_given(self) -> None:
        submission = self.killed_mid_way(lease_left=60)
        call_command("process_submissions", stdout=StringIO())
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSING)
        call_command("process_submissions", "--stuck", stdout=StringIO())
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    @override_settings(ODK_FORMS_PROCESSING_MAX_LOST_LEASES=3)
    def test_a_submission_that_keeps_killing_its_worker_ends_failed(self) -> None:
        submission = self.killed_mid_way(leases_lost=2)
        with (
            mock.patch("odk_forms.processing.enqueue") as enqueue,
            self.captureOnCommitCallbacks(execute=True),
        ):
            report = processing.sweep()
        self.assertEqual((report.requeued, report.failed), (0, 1))
        enqueue.assert_not_called()
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.FAILED)
        self.assertTrue(submission.processing_error.startswith("500.50 "), submission.processing_error)
        # Still stored, and processed again on request once the cause is found.
        call_command("process_submissions", "--failed", stdout=StringIO())
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.leases_lost), (ProcessingState.PROCESSED, 0))

    def test_reprocessing_takes_a_run_out_lease(self) -> None:
        submission = self.killed_mid_way()
        with self.captureOnCommitCallbacks(execute=True):
            self.assertTrue(processing.reprocess_submission(submission))
        submission.refresh_from_db()
        self.assertEqual(submission.state, ProcessingState.PROCESSED)

    def test_a_dead_worker_task_goes_back_to_the_queue(self) -> None:
        task = app.tasks[processing.PROCESS_TASK]
        self.assertTrue(task.acks_late)
        self.assertTrue(task.reject_on_worker_lost)
        schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
        self.assertIn(processing.SWEEP_TASK, schedule)
        self.assertIn(processing.SWEEP_TASK, app.tasks)


class BusyDatabaseTest(BaseTestCase):
    def setUp(self) -> None:
        CALLS.clear()
        BUSY_ONCE.clear()
        make_form([self.area])

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[BUSY_ONCE_PATH])
    def test_a_busy_database_is_not_a_failure(self) -> None:
        with mock.patch("odk_forms.processing.enqueue"):
            post_submission(self.client, make_instance())
        submission = Submission.objects.get()
        self.assertEqual(processing.process_submission(submission.pk), ProcessingState.RECEIVED)
        submission.refresh_from_db()
        # Released, not failed: the next try does the work.
        self.assertEqual((submission.state, submission.processing_error), (ProcessingState.RECEIVED, ""))
        self.assertIsNone(submission.lease_expires)
        self.assertEqual(processing.process_submission(submission.pk), ProcessingState.PROCESSED)
        self.assertEqual(len(CALLS), 1)

    def test_a_busy_claim_leaves_the_submission_waiting(self) -> None:
        with mock.patch("odk_forms.processing.enqueue"):
            post_submission(self.client, make_instance())
        submission = Submission.objects.get()
        with mock.patch.object(
            Submission.objects, "filter", side_effect=OperationalError("database is locked")
        ):
            self.assertEqual(processing.process_submission(submission.pk), ProcessingState.RECEIVED)
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.RECEIVED, 0))
