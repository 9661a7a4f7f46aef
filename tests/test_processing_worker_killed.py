"""A Celery worker process killed (SIGKILL) in the middle of processing a submission: the
record is processed exactly once afterwards, by itself, without anyone running a command.

The killed run's transaction is rolled back; its task goes back to the queue (acks_late,
reject_on_worker_lost), finds the submission held by the dead run's lease, and leaves it;
the lease runs out and beat's sweep hands the submission out again. PostGIS and a Redis
broker (FIELDKIT_TEST_REDIS_URL), like tests/test_celery_broker.py; the worker is a real
prefork worker in its own process, on the test database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase

from accounts.models import AreaMembership, Role, User
from fieldkit.celery import app
from observations import reference
from observations.models import Observation
from odk_forms.models import ProcessingState, Submission
from tests import observation_builders as ob
from tests.base import PASSWORD
from tests.builders import make_area
from tests.xml_builders import post_submission

REDIS_URL = os.getenv("FIELDKIT_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[1]
LEASE = 2  # seconds
SWEEP = 1  # seconds


def wait_for(condition, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


def reset_broker_connections() -> None:
    # The app keeps a pool of connections to the broker it first used; drop it so the new
    # URL takes effect (as in tests/test_celery_broker.py).
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@unittest.skipUnless(
    REDIS_URL and connection.vendor == "postgresql",
    "needs PostGIS and a Redis broker (FIELDKIT_TEST_REDIS_URL)",
)
class KilledWorkerTest(TransactionTestCase):
    def setUp(self) -> None:
        assert REDIS_URL is not None
        # A Redis database of its own: other tests purge the default one's queue.
        self.broker = urlunsplit(urlsplit(REDIS_URL)._replace(path="/9"))
        saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
        app.conf.update(broker_url=self.broker, task_always_eager=False)
        reset_broker_connections()
        self.addCleanup(reset_broker_connections)
        self.addCleanup(app.conf.update, **saved)
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge("celery")

        self.markers = Path(tempfile.mkdtemp(prefix="fieldkit-killed-"))
        self.addCleanup(shutil.rmtree, self.markers, True)
        self.worker = self.start_worker()
        # The reference data a migration loads; TransactionTestCase empties every table.
        reference.sync_reference_data()
        self.area = make_area()
        user = User.objects.create_user("collector", password=PASSWORD)
        AreaMembership.objects.create(user=user, area=self.area, role=Role.COLLECTOR)
        ob.publish(ob.incident_form_md(), [self.area])

    def start_worker(self) -> subprocess.Popen[bytes]:
        db = connection.settings_dict
        credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        env = {
            **os.environ,
            "DATABASE_URL": f"postgis://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": self.broker,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "ODK_FORMS_PROCESSING_LEASE": str(LEASE),
            "ODK_FORMS_SWEEP_INTERVAL": str(SWEEP),
            "FIELDKIT_TEST_MARKERS": str(self.markers),
            "LOG_LEVEL": "WARNING",
        }
        log = (self.markers / "worker.log").open("wb")
        self.addCleanup(log.close)
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "tests.celery_worker", "--pool", "prefork", "--concurrency", "1",
                "--beat", "--schedule", str(self.markers / "beat-schedule"), "--loglevel", "warning",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.addCleanup(self.stop_worker, worker)
        return worker

    def stop_worker(self, worker: subprocess.Popen[bytes]) -> None:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)

    def worker_log(self) -> str:
        return (self.markers / "worker.log").read_text(errors="replace")[-3000:]

    def test_a_worker_killed_mid_way_leaves_the_record_processed_once(self) -> None:
        values = ob.observation_values(
            loc=ob.geopoint(147.35, -9.44),
            when="2024-06-01T10:00:00.000+10:00",
            category="human_activity.weapons.snare",
            count="3",
        )
        response = post_submission(
            self.client, ob.instance_xml("fk_incident", values, instance_id="uuid:kill")
        )
        self.assertEqual(response.status_code, 201, response.content)
        submission = Submission.objects.get(instance_id="uuid:kill")

        # The first run has written its observation (uncommitted) and hangs: kill its process.
        first = self.markers / "attempt-1"
        wait_for(first.exists, 60, f"the first run to start\n{self.worker_log()}")
        pid = int(wait_for(first.read_text, 5, "the pid"))
        os.kill(pid, signal.SIGKILL)

        def finished() -> bool:
            submission.refresh_from_db()
            return submission.state != ProcessingState.PROCESSING and submission.processing_attempts > 1

        wait_for(finished, 30, f"processing after the kill\n{self.worker_log()}")
        self.assertEqual(submission.state, ProcessingState.PROCESSED, submission.processing_error)
        self.assertEqual(submission.processing_attempts, 2)
        self.assertNotEqual(int((self.markers / "attempt-2").read_text()), pid)
        # And nothing more: another lease and sweep later, still one run, one record.
        time.sleep(LEASE + SWEEP)
        submission.refresh_from_db()
        self.assertEqual((submission.state, submission.processing_attempts), (ProcessingState.PROCESSED, 2))
        self.assertFalse((self.markers / "attempt-3").exists())
        self.assertEqual(Observation.objects.filter(root_submission_id=submission.pk).count(), 1)
        self.assertIsNone(self.worker.poll(), "the worker itself should have survived its child")
