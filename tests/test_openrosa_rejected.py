"""Refused submissions are kept with their files, listed for admins, and can be received
again once the cause is fixed."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from fieldkit import errors
from odk_forms import publishing, receiving, storage
from odk_forms.models import FormState, RejectedSubmission, Submission
from tests.base import BaseTestCase
from tests.xml_builders import make_form, make_instance, photo_bytes, post_submission


class RejectedSubmissionTestCase(BaseTestCase):
    def submit(self, xml: bytes, files: dict[str, bytes] | None = None, username: str = "collector"):  # type: ignore[no-untyped-def]
        with self.captureOnCommitCallbacks(execute=True):
            return post_submission(self.client, xml, files, username)

    def test_an_unknown_form_is_refused_kept_and_received_after_publishing(self) -> None:
        xml = make_instance(form_id="patrol", photo="snare.jpg", instance_id="uuid:lost-1")
        photo = photo_bytes(5000, seed=3)
        response = self.submit(xml, {"snare.jpg": photo})
        self.assertEqual(response.status_code, 404)

        rejected = RejectedSubmission.objects.get()
        self.assertEqual((rejected.xml_form_id, rejected.instance_id), ("patrol", "uuid:lost-1"))
        self.assertEqual(rejected.error_code, "404.7")
        self.assertEqual(rejected.submitted_by, self.collector)
        self.assertEqual(storage.read_bytes(rejected.xml_file.name), xml)
        self.assertEqual(storage.read_bytes(f"{rejected.parts_dir}/snare.jpg"), photo)
        self.assertEqual(rejected.parts[0]["name"], "snare.jpg")
        self.assertEqual(storage.read_bytes(rejected.parts[0]["file"]), photo)

        make_form([self.area])
        received = receiving.receive_rejected(rejected)
        self.assertTrue(received.created)
        submission = Submission.objects.get(instance_id="uuid:lost-1")
        self.assertEqual(submission.submitted_by, self.collector)
        self.assertEqual(submission.attachments.get().name, "snare.jpg")
        rejected.refresh_from_db()
        self.assertEqual(rejected.accepted_as, submission)
        self.assertIsNotNone(rejected.accepted_at)
        self.assertFalse((storage.media_root() / rejected.xml_file.name).exists())

    def test_a_closed_form_keeps_the_submission_until_reopened(self) -> None:
        version = make_form([self.area])
        publishing.set_form_state(version.form, FormState.CLOSED)
        response = self.submit(make_instance(instance_id="uuid:late-1"))
        self.assertEqual(response.status_code, 409)
        rejected = RejectedSubmission.objects.get()
        self.assertEqual(rejected.error_code, "409.2")

        with self.assertRaises(errors.Problem):
            receiving.receive_rejected(rejected)
        self.assertEqual(RejectedSubmission.objects.get().accepted_at, None)

        publishing.set_form_state(version.form, FormState.OPEN)
        receiving.receive_rejected(rejected)
        self.assertTrue(Submission.objects.filter(instance_id="uuid:late-1").exists())

    def test_conflicting_xml_keeps_both_versions(self) -> None:
        make_form([self.area])
        first = make_instance(instance_id="uuid:same", values={"count": "2"})
        second = make_instance(instance_id="uuid:same", values={"count": "3"})
        self.assertEqual(self.submit(first).status_code, 201)
        self.assertEqual(self.submit(second).status_code, 409)
        rejected = RejectedSubmission.objects.get()
        self.assertEqual(rejected.error_code, "409.1")
        self.assertEqual(storage.read_bytes(rejected.xml_file.name), second)

    def test_unreadable_xml_is_kept_too(self) -> None:
        response = self.submit(b"<data id='patrol'><unclosed></data>")
        self.assertEqual(response.status_code, 400)
        rejected = RejectedSubmission.objects.get()
        self.assertEqual(rejected.error_code, "400.13")
        self.assertEqual(rejected.xml_form_id, "")

    def test_an_outsider_refused_for_another_area_is_kept_as_theirs(self) -> None:
        make_form([self.area])
        response = self.submit(make_instance(), username="outsider")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(RejectedSubmission.objects.get().submitted_by, self.outsider)
        self.assertEqual(Submission.objects.count(), 0)

    def test_admin_lists_and_receives_again(self) -> None:
        from accounts.models import User

        self.submit(make_instance(instance_id="uuid:adm-1"))
        admin = User.objects.create_superuser("root", "r@example.org", "pw-for-admin-tests")
        self.client.force_login(admin)
        self.assertContains(self.client.get("/admin/odk_forms/rejectedsubmission/"), "uuid:adm-1")
        make_form([self.area])
        rejected = RejectedSubmission.objects.get()
        response = self.client.post(
            "/admin/odk_forms/rejectedsubmission/",
            {"action": "receive_again", "_selected_action": [rejected.pk]},
            follow=True,
        )
        self.assertContains(response, "1 submission(s) received.")
        self.assertTrue(Submission.objects.filter(instance_id="uuid:adm-1").exists())


class PartsMigrationTest(TransactionTestCase):
    """Rejected submissions kept before parts had their sent names still come back."""

    def test_part_names_become_parts(self) -> None:
        executor = MigrationExecutor(connection)
        executor.migrate([("odk_forms", "0004_submission_lease")])
        old = executor.loader.project_state([("odk_forms", "0004_submission_lease")]).apps
        rejected = old.get_model("odk_forms", "RejectedSubmission").objects.create(
            xml_file="submissions/x.xml",
            parts_dir="submissions/x",
            part_names=["snare_.jpg"],
            error_code="404.7",
        )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("odk_forms"))
        self.assertEqual(
            RejectedSubmission.objects.get(pk=rejected.pk).parts,
            [{"name": "snare_.jpg", "filename": "snare_.jpg", "file": "submissions/x/snare_.jpg"}],
        )
