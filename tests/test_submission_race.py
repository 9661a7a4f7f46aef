"""Submissions racing each other (real threads, each request on its own connection), on
PostGIS and on SpatiaLite: identical submissions make one record, two different XML under
one instanceID make one record and a 409, two edits of one version make one new version,
an edit sent twice at once is one edit, and the parts of a split upload all arrive.

On SpatiaLite the test database is a file (tests/conftest.py), so that the threads meet
SQLite's own locking.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any
from unittest import mock

from django.db import connection
from django.test import Client, TransactionTestCase

from accounts.models import AreaMembership, Role, User
from odk_forms.models import Attachment, Submission
from tests.base import PASSWORD
from tests.builders import make_area
from tests.xml_builders import make_form, make_instance, openrosa_headers, photo_bytes, submission_body


class SubmissionRaceTest(TransactionTestCase):
    def setUp(self) -> None:
        area = make_area()
        user = User.objects.create_user("collector", password=PASSWORD)
        AreaMembership.objects.create(user=user, area=area, role=Role.COLLECTOR)
        make_form([area], photo_fields=("photo", "photo2"))

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
                response = Client(raise_request_exception=False).post(
                    "/submission",
                    body,
                    **openrosa_headers("collector"),  # type: ignore[arg-type]
                )
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

    def send(self, xml: bytes) -> None:
        response = Client().post("/submission", submission_body(xml), **openrosa_headers("collector"))  # type: ignore[arg-type]
        self.assertEqual(response.status_code, 201, response.content)

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
        self.send(make_instance(instance_id=original))
        bodies = [submission_body(make_instance(deprecated_id=original, values={"count": n})) for n in "34"]
        self.assertEqual(self.race(bodies), [201, 409])
        self.assertEqual(Submission.objects.filter(is_current=True).count(), 1)

    def test_one_edit_sent_twice_at_once_is_one_edit(self) -> None:
        original = f"uuid:{uuid.uuid4()}"
        self.send(make_instance(instance_id=original))
        edit = make_instance(deprecated_id=original, values={"count": "5"})
        self.assertEqual(self.race([submission_body(edit), submission_body(edit)]), [201, 201])
        self.assertEqual(Submission.objects.count(), 2)
        self.assertEqual(Submission.objects.get(is_current=True).deprecated_id, original)

    def test_the_parts_of_a_split_upload_sent_at_once_all_arrive(self) -> None:
        xml = make_instance(photo="a.jpg", values={"photo2": "b.jpg"})
        bodies = [
            submission_body(xml, {"a.jpg": b"aaa"}, **{"*isIncomplete*": "yes"}),
            submission_body(xml, {"b.jpg": b"bbb"}),
        ]
        self.assertEqual(self.race(bodies), [201, 201])
        submission = Submission.objects.get()
        self.assertEqual(
            dict(Attachment.objects.values_list("name", "is_referenced")), {"a.jpg": True, "b.jpg": True}
        )
        self.assertEqual(submission.attachments.count(), 2)
