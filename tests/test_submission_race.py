"""Identical submissions racing each other make one record (PostGIS, real threads).

SpatiaLite is skipped: SQLite lets one writer at a time into the whole database file, so the
two requests cannot interleave inside their transactions the way they do on PostgreSQL, and
the test database lives in memory where threads cannot share it.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any
from unittest import mock, skipUnless

from django.db import connection
from django.test import Client, TransactionTestCase

from accounts.models import AreaMembership, Role, User
from odk_forms.models import Submission
from tests.base import PASSWORD
from tests.builders import make_area
from tests.xml_builders import make_form, make_instance, openrosa_headers, photo_bytes, submission_body


@skipUnless(
    connection.vendor == "postgresql", "needs concurrent writers (PostgreSQL); see the module docstring"
)
class SubmissionRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        area = make_area()
        user = User.objects.create_user("collector", password=PASSWORD)
        AreaMembership.objects.create(user=user, area=area, role=Role.COLLECTOR)
        make_form([area])

    def race(self, bodies: list[dict[str, Any]]) -> list[int]:
        """POST the bodies at once; every request reads "no such record yet" before any inserts."""
        barrier = threading.Barrier(len(bodies))
        original_create = Submission.objects.create
        statuses: list[int] = []

        def create_together(**kwargs: Any) -> Submission:
            # A broken barrier: the other request is already blocked behind our lock; go on.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)
            return original_create(**kwargs)

        def post(body: dict[str, Any]) -> None:
            try:
                response = Client().post("/submission", body, **openrosa_headers("collector"))  # type: ignore[arg-type]
                statuses.append(response.status_code)
            finally:
                connection.close()

        with mock.patch.object(Submission.objects, "create", side_effect=create_together):
            threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        return sorted(statuses)

    def test_identical_submissions_make_one_record(self) -> None:
        xml = make_instance(photo="p.jpg")
        statuses = self.race([submission_body(xml, {"p.jpg": photo_bytes()}) for _ in range(4)])
        self.assertEqual(statuses, [201, 201, 201, 201])
        submission = Submission.objects.get()
        self.assertEqual(submission.attachments.count(), 1)

    def test_different_submissions_with_one_instance_id(self) -> None:
        instance_id = f"uuid:{uuid.uuid4()}"
        bodies = [submission_body(make_instance(instance_id=instance_id, values={"count": n})) for n in "12"]
        self.assertEqual(self.race(bodies), [201, 409])
        self.assertEqual(Submission.objects.count(), 1)

    def test_two_edits_of_one_record(self) -> None:
        original = f"uuid:{uuid.uuid4()}"
        Client().post(
            "/submission",
            submission_body(make_instance(instance_id=original)),
            **openrosa_headers("collector"),
        )  # type: ignore[arg-type]
        bodies = [submission_body(make_instance(deprecated_id=original, values={"count": n})) for n in "34"]
        self.assertEqual(self.race(bodies), [201, 409])
        self.assertEqual(Submission.objects.filter(is_current=True).count(), 1)
