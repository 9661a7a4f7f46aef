"""Without a broker, the serving process answers first and processes after, in its
background thread (odk_forms.background), which also finds work left by a previous run.

The thread needs committed rows, hence TransactionTestCase; the rest of the suite processes
in the request (tests/conftest.py), which these tests turn back off."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from unittest import mock

from django.db import OperationalError
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from accounts.models import AreaMembership, Role, User
from odk_forms import background, processing
from odk_forms.models import ProcessingState, Submission
from tests.base import PASSWORD
from tests.builders import make_area
from tests.xml_builders import make_form, make_instance, post_submission

STARTED = threading.Event()
RELEASE = threading.Event()
FINISHED = threading.Event()
BUSY: list[int] = []


def slow_processor(submission: Submission, xml: bytes) -> None:
    """A large patrol: takes until the test releases it (or a few seconds)."""
    STARTED.set()
    RELEASE.wait(timeout=5)
    FINISHED.set()


def busy_twice_processor(submission: Submission, xml: bytes) -> None:
    if len(BUSY) < 2:
        BUSY.append(submission.pk)
        raise OperationalError("database is locked")


SLOW = "tests.test_background_processing.slow_processor"
BUSY_TWICE = "tests.test_background_processing.busy_twice_processor"


class BackgroundProcessingTest(TransactionTestCase):
    def setUp(self) -> None:
        for event in (STARTED, RELEASE, FINISHED):
            event.clear()
        BUSY.clear()
        background_on = self.settings(ODK_FORMS_BACKGROUND_PROCESSING=True)
        background_on.enable()
        self.addCleanup(background_on.disable)
        self.worker = processing.background_worker()
        self.addCleanup(self.worker.stop)
        self.addCleanup(RELEASE.set)
        area = make_area()
        user = User.objects.create_user("collector", password=PASSWORD)
        AreaMembership.objects.create(user=user, area=area, role=Role.COLLECTOR)
        make_form([area])

    def assertProcessed(self, instance_id: str) -> Submission:
        self.assertTrue(self.worker.wait_idle(timeout=20), "background processing did not finish")
        submission = Submission.objects.get(instance_id=instance_id)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        return submission

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[SLOW])
    def test_the_phone_gets_its_answer_before_processing(self) -> None:
        started = time.monotonic()
        response = post_submission(self.client, make_instance(instance_id="uuid:bg-1"))
        answered = time.monotonic() - started
        self.assertEqual(response.status_code, 201, response.content)
        # Answered while processing has not finished (it waits for RELEASE).
        self.assertFalse(FINISHED.is_set())
        self.assertLess(answered, 4)
        self.assertTrue(STARTED.wait(timeout=10), "processing never started")
        RELEASE.set()
        submission = self.assertProcessed("uuid:bg-1")
        self.assertTrue(FINISHED.is_set())
        self.assertEqual(submission.processing_attempts, 1)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[])
    def test_a_starting_thread_finds_work_a_previous_run_left(self) -> None:
        for instance_id in ("uuid:left-waiting", "uuid:left-claimed"):
            with mock.patch("odk_forms.processing.enqueue"):
                # Received, then the process exited before its queue was worked through.
                post_submission(self.client, make_instance(instance_id=instance_id))
        # The other one was being processed by a worker that was killed.
        Submission.objects.filter(instance_id="uuid:left-claimed").update(
            state=ProcessingState.PROCESSING, processing_attempts=1, lease_expires=timezone.now()
        )
        self.assertEqual(Submission.objects.filter(state=ProcessingState.RECEIVED).count(), 1)
        processing.start_background_worker()
        self.assertProcessed("uuid:left-waiting")
        self.assertEqual(self.assertProcessed("uuid:left-claimed").processing_attempts, 2)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[BUSY_TWICE])
    def test_a_busy_database_is_tried_again_not_failed(self) -> None:
        response = post_submission(self.client, make_instance(instance_id="uuid:busy"))
        self.assertEqual(response.status_code, 201)
        submission = self.assertProcessed("uuid:busy")
        self.assertEqual(len(BUSY), 2)
        self.assertEqual(submission.processing_attempts, 3)

    @override_settings(ODK_FORMS_SUBMISSION_PROCESSORS=[], ODK_FORMS_SWEEP_INTERVAL=0.2)
    def test_the_thread_sweeps_now_and_then(self) -> None:
        processing.start_background_worker()
        self.assertTrue(self.worker.wait_idle(timeout=10))
        post_submission(self.client, make_instance(instance_id="uuid:later"))
        self.assertProcessed("uuid:later")
        # A worker dies under it later on (another process of the same server).
        Submission.objects.update(
            state=ProcessingState.PROCESSING, lease_expires=timezone.now() - timedelta(seconds=1)
        )
        deadline = time.monotonic() + 10
        while Submission.objects.get().state != ProcessingState.PROCESSED and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(Submission.objects.get().state, ProcessingState.PROCESSED)


def test_the_worker_finishes_its_queue_at_exit() -> None:
    """A management command that received submissions exits with them processed."""
    done: list[int] = []

    def handle(item: int) -> None:
        time.sleep(0.05)
        done.append(item)

    worker = background.Worker("test-worker", handle, lambda first: None, lambda: 60.0)
    for item in range(5):
        worker.submit(item)
    worker._finish_at_exit()
    assert done == [0, 1, 2, 3, 4]
    assert not worker.running
