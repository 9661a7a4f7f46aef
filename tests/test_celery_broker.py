"""With a real Redis broker, a submission is answered before it is processed, and a Celery
worker processes it. Runs where the test script provides Redis (FIELDKIT_TEST_REDIS_URL,
on the PostGIS pass); the worker thread needs committed rows, hence TransactionTestCase."""

from __future__ import annotations

import os
import time
import unittest

from celery.contrib.testing.worker import start_worker
from django.test import TransactionTestCase

from accounts.models import AreaMembership, Role, User
from fieldkit.celery import app
from odk_forms.models import ProcessingState, Submission
from tests.base import PASSWORD
from tests.builders import make_area
from tests.xml_builders import make_form, make_instance, post_submission

REDIS_URL = os.getenv("FIELDKIT_TEST_REDIS_URL")


@unittest.skipUnless(REDIS_URL, "needs a Redis broker (FIELDKIT_TEST_REDIS_URL)")
class RedisBrokerTestCase(TransactionTestCase):
    def setUp(self) -> None:
        self.saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
        app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
        self.reset_connections()
        area = make_area()
        user = User.objects.create_user("collector", "c@example.org", PASSWORD)
        AreaMembership.objects.create(user=user, area=area, role=Role.COLLECTOR)
        make_form([area])

    def tearDown(self) -> None:
        app.conf.update(**self.saved)
        self.reset_connections()

    @staticmethod
    def reset_connections() -> None:
        # The app keeps a pool of connections to the broker it first used (the in-memory
        # transport of eager mode, in this process); drop it so the new URL takes effect.
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    def test_a_worker_processes_what_the_request_queued(self) -> None:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge("celery")
        response = post_submission(self.client, make_instance(instance_id="uuid:broker-1"), None, "collector")
        self.assertEqual(response.status_code, 201, response.content)
        submission = Submission.objects.get(instance_id="uuid:broker-1")
        # Answered, not processed: the work waits in Redis for a worker.
        self.assertEqual(submission.state, ProcessingState.RECEIVED)

        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                submission.refresh_from_db()
                # Wait for the end of processing, not its start (the claim sets `processing`).
                if submission.state not in (ProcessingState.RECEIVED, ProcessingState.PROCESSING):
                    break
                time.sleep(0.1)
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
